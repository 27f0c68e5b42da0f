//! DynamoDB over AWS JSON 1.0 (`X-Amz-Target: DynamoDB_20120810.*`): item
//! size and the number of actions per batch and transaction.
//!
//! Limits (DynamoDB Developer Guide, "Quotas" and the API reference): an item
//! is at most 400 KB — exactly 409,600 bytes, the ceiling measured on
//! `PutItem`, `BatchWriteItem` and `TransactWriteItems` (paritysuite/dynamodb-conformance,
//! `tests/tier3/limits/itemSizeBySurface.test.ts`, eu-west-2, 2026-08-18);
//! `BatchWriteItem` takes at most 25 put or delete requests, `BatchGetItem`
//! at most 100 keys, `TransactWriteItems` and `TransactGetItems` at most 100
//! actions (raised from 25 in September 2022).
//!
//! Errors: every one is a `ValidationException` (400), which the Rust SDK
//! does not model for these operations (an unhandled error whose `code()` is
//! `ValidationException`); the `__type` is DynamoDB's
//! `com.amazonaws.dynamodb.v20120810#ValidationException`. Messages, from the
//! same conformance suite's captures (`tests/tier3/error-messages/`), in the
//! wording of DynamoDB's newer validation framework, which does not echo the
//! request back: "Item size has exceeded the maximum allowed size" (also for
//! a transaction's `Put`: a top-level error, not a cancellation, since the
//! size is known from the request), "1 validation error detected: Value at
//! 'RequestItems.<table>.member' failed to satisfy constraint: Member must
//! have length less than or equal to 25", "... at
//! 'RequestItems.<table>.member.Keys' ... less than or equal to 100", "...
//! at 'TransactItems' ... less than or equal to 100"; over the total across
//! tables, "Too many items requested for the BatchWriteItem call" and "...
//! for the BatchGetItem call" (DynamoDB's documented message; moto's
//! `batch_get_item` makes the same split).
//!
//! Item size, as the Developer Guide's "Item sizes and formats" gives it:
//! attribute names and strings in UTF-8 bytes; binary values in raw bytes
//! (base64-decoded); null and Boolean 1 byte; a list or map 3 bytes plus 1
//! byte per element plus its elements (a map's element also its key); sets
//! the sum of their members. Numbers are the approximation: DynamoDB stores a
//! number as base-100 digits aligned on the decimal point, with leading and
//! trailing zeros dropped, so a number costs 1 byte plus 1 per pair of
//! significant digits (pairs counted from the decimal point on each side),
//! plus 1 if negative. That reproduces the sizes measured on AWS (`3.14159`
//! costs 5, `123456` costs 4, `1E125` costs 2: the conformance suite's
//! `numberByteSize.test.ts`); the guide's "1 byte per two significant digits
//! plus 1 byte" rounds down and is off by one on some of them.

use serde_json::{Map, Value};

use super::{base64_decoded_len, json_body, with_detail};
use super::{ErrorShape, QuotaViolation};

/// An item's size: 400 KB.
pub const MAX_ITEM_BYTES: usize = 409_600;
/// Put and delete requests in one `BatchWriteItem`, across tables.
pub const MAX_BATCH_WRITE_REQUESTS: usize = 25;
/// Keys in one `BatchGetItem`, across tables.
pub const MAX_BATCH_GET_KEYS: usize = 100;
/// Actions in one `TransactWriteItems` or `TransactGetItems`.
pub const MAX_TRANSACT_ITEMS: usize = 100;

const VALIDATION: ErrorShape =
    ErrorShape::AwsJson { type_name: "com.amazonaws.dynamodb.v20120810#ValidationException" };

pub fn check(operation: &str, body: &[u8]) -> Option<QuotaViolation> {
    match operation {
        "PutItem" => item_too_large("DynamoDB.PutItem item size", json_body(body)?.get("Item")),
        "TransactWriteItems" => transact_write_items(&json_body(body)?),
        "BatchWriteItem" => batch_write_item(&json_body(body)?),
        "BatchGetItem" => batch_get_item(&json_body(body)?),
        "TransactGetItems" => too_many_actions("DynamoDB.TransactGetItems actions", &json_body(body)?),
        _ => None,
    }
}

/// An item's size (approximate for numbers: see the module's notes).
pub fn item_bytes(item: &Map<String, Value>) -> usize {
    item.iter().map(|(name, value)| name.len() + value_bytes(value)).sum()
}

/// One attribute value's size, without its name.
pub fn value_bytes(value: &Value) -> usize {
    let Some((kind, inner)) = value.as_object().and_then(|typed| typed.iter().next()) else { return 0 };
    match (kind.as_str(), inner) {
        ("S", Value::String(text)) => text.len(),
        ("N", Value::String(number)) => number_bytes(number),
        ("B", Value::String(encoded)) => base64_decoded_len(encoded),
        ("BOOL" | "NULL", _) => 1,
        ("SS", Value::Array(items)) => members(items, str::len),
        ("NS", Value::Array(items)) => members(items, number_bytes),
        ("BS", Value::Array(items)) => members(items, base64_decoded_len),
        ("L", Value::Array(items)) => 3 + items.iter().map(|item| 1 + value_bytes(item)).sum::<usize>(),
        ("M", Value::Object(map)) => 3 + map.iter().map(|(key, v)| 1 + key.len() + value_bytes(v)).sum::<usize>(),
        _ => 0,
    }
}

/// A set's size: the sum of its members'.
fn members(items: &[Value], size: fn(&str) -> usize) -> usize {
    items.iter().filter_map(Value::as_str).map(size).sum()
}

/// A number's size: 1 byte, plus 1 per base-100 digit (pairs of decimal
/// digits aligned on the decimal point, leading and trailing zeros dropped),
/// plus 1 if negative. Not a number: its length.
pub fn number_bytes(literal: &str) -> usize {
    let text = literal.trim();
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((mantissa, exponent)) => (mantissa, exponent.parse::<i64>().ok()),
        None => (unsigned, Some(0)),
    };
    let (integer, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits: Vec<u8> = integer.bytes().chain(fraction.bytes()).collect();
    let Some(exponent) = exponent.filter(|_| !digits.is_empty() && digits.iter().all(u8::is_ascii_digit)) else {
        return literal.len();
    };
    let leading = digits.iter().take_while(|d| **d == b'0').count();
    if leading == digits.len() {
        return 1; // zero
    }
    let trailing = digits.iter().rev().take_while(|d| **d == b'0').count();
    let significant = digits.len() - leading - trailing;
    // Where the decimal point falls, counted from the first significant digit.
    let point =
        i64::try_from(integer.len()).unwrap_or(i64::MAX).saturating_add(exponent) - i64::try_from(leading).unwrap_or(0);
    // An odd number of integer digits starts with a half-filled pair.
    let padding = usize::from(point.rem_euclid(2) == 1);
    1 + (significant + padding).div_ceil(2) + usize::from(negative)
}

fn item_too_large(rule: &'static str, item: Option<&Value>) -> Option<QuotaViolation> {
    let size = item_bytes(item?.as_object()?);
    (size > MAX_ITEM_BYTES).then(|| {
        QuotaViolation::bad_request(
            rule,
            VALIDATION,
            with_detail(
                "Item size has exceeded the maximum allowed size",
                format_args!("the item is {size} bytes, limit {MAX_ITEM_BYTES}"),
            ),
        )
    })
}

fn too_many_actions(rule: &'static str, request: &Value) -> Option<QuotaViolation> {
    let count = request.get("TransactItems")?.as_array()?.len();
    (count > MAX_TRANSACT_ITEMS).then(|| {
        QuotaViolation::bad_request(
            rule,
            VALIDATION,
            with_detail(
                &format!(
                    "1 validation error detected: Value at 'TransactItems' failed to satisfy constraint: Member must have length less than or equal to {MAX_TRANSACT_ITEMS}"
                ),
                format_args!("{count} actions"),
            ),
        )
    })
}

fn transact_write_items(request: &Value) -> Option<QuotaViolation> {
    too_many_actions("DynamoDB.TransactWriteItems actions", request).or_else(|| {
        let actions = request.get("TransactItems")?.as_array()?;
        actions.iter().find_map(|action| {
            item_too_large("DynamoDB.TransactWriteItems Put item size", action.get("Put")?.get("Item"))
        })
    })
}

fn batch_write_item(request: &Value) -> Option<QuotaViolation> {
    let tables = request.get("RequestItems")?.as_object()?;
    let requests = |table: &Value| table.as_array().map_or(0, Vec::len);
    for (table, writes) in tables {
        let count = requests(writes);
        if count > MAX_BATCH_WRITE_REQUESTS {
            return Some(QuotaViolation::bad_request(
                "DynamoDB.BatchWriteItem requests",
                VALIDATION,
                with_detail(
                    &format!(
                        "1 validation error detected: Value at 'RequestItems.{table}.member' failed to satisfy constraint: Member must have length less than or equal to {MAX_BATCH_WRITE_REQUESTS}"
                    ),
                    format_args!("{count} requests for {table}"),
                ),
            ));
        }
    }
    let total: usize = tables.values().map(requests).sum();
    if total > MAX_BATCH_WRITE_REQUESTS {
        return Some(QuotaViolation::bad_request(
            "DynamoDB.BatchWriteItem requests",
            VALIDATION,
            with_detail(
                "Too many items requested for the BatchWriteItem call",
                format_args!("{total} requests across tables, limit {MAX_BATCH_WRITE_REQUESTS}"),
            ),
        ));
    }
    tables.values().filter_map(Value::as_array).flatten().find_map(|write| {
        item_too_large("DynamoDB.BatchWriteItem PutRequest item size", write.get("PutRequest")?.get("Item"))
    })
}

fn batch_get_item(request: &Value) -> Option<QuotaViolation> {
    let tables = request.get("RequestItems")?.as_object()?;
    let keys = |table: &Value| table.get("Keys").and_then(Value::as_array).map_or(0, Vec::len);
    for (table, reads) in tables {
        let count = keys(reads);
        if count > MAX_BATCH_GET_KEYS {
            return Some(QuotaViolation::bad_request(
                "DynamoDB.BatchGetItem keys",
                VALIDATION,
                with_detail(
                    &format!(
                        "1 validation error detected: Value at 'RequestItems.{table}.member.Keys' failed to satisfy constraint: Member must have length less than or equal to {MAX_BATCH_GET_KEYS}"
                    ),
                    format_args!("{count} keys for {table}"),
                ),
            ));
        }
    }
    let total: usize = tables.values().map(keys).sum();
    (total > MAX_BATCH_GET_KEYS).then(|| {
        QuotaViolation::bad_request(
            "DynamoDB.BatchGetItem keys",
            VALIDATION,
            with_detail(
                "Too many items requested for the BatchGetItem call",
                format_args!("{total} keys across tables, limit {MAX_BATCH_GET_KEYS}"),
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use axum::http::Method;
    use serde_json::json;

    use super::super::tests::target;
    use super::*;

    fn dynamodb(header: &'static str, request: &Value) -> Option<QuotaViolation> {
        super::super::check(&Method::POST, "/", &target(header), None, request.to_string().as_bytes())
    }

    fn message(violation: Option<QuotaViolation>) -> String {
        let violation = violation.expect("refused");
        assert_eq!(violation.status, 400);
        assert_eq!(violation.error, VALIDATION);
        violation.message
    }

    #[test]
    fn numbers_cost_a_byte_per_pair_of_significant_digits() {
        // The sizes measured on AWS (conformance suite, numberByteSize.test.ts).
        assert_eq!(number_bytes("3.14159"), 5);
        assert_eq!(number_bytes("123456"), 4);
        assert_eq!(number_bytes("1E125"), 2);
        assert_eq!(number_bytes("1"), 2);
        // Zeros are trimmed; pairs align on the decimal point; a sign costs 1.
        assert_eq!(number_bytes("0042.1200"), number_bytes("42.12"));
        assert_eq!(number_bytes("100"), 2);
        assert_eq!(number_bytes("110"), 3);
        assert_eq!(number_bytes("0.001"), 2);
        assert_eq!(number_bytes("-1"), 3);
        assert_eq!(number_bytes("0"), 1);
        assert_eq!(number_bytes("12345678901234567890123456789012345678"), 20);
        assert_eq!(number_bytes("nope"), 4);
    }

    #[test]
    fn item_size_follows_the_developer_guide() {
        let item = json!({
            "pk": {"S": "é"},                       // 2 + 2
            "n": {"N": "123456"},                   // 1 + 4
            "b": {"B": "AAECAw=="},                 // 1 + 4
            "t": {"BOOL": true}, "z": {"NULL": true}, // 2 + 2
            "ss": {"SS": ["a", "bc"]},              // 2 + 3
            "l": {"L": [{"S": "x"}, {"N": "1"}]},   // 1 + 3 + (1 + 1) + (1 + 2)
            "m": {"M": {"k": {"S": "v"}}}           // 1 + 3 + (1 + 1 + 1)
        });
        let item = item.as_object().expect("map");
        assert_eq!(item_bytes(item), 4 + 5 + 5 + 4 + 5 + 9 + 7);
        assert_eq!(value_bytes(&json!({"M": {}})), 3);
    }

    /// An item of exactly `bytes`: `pk` (2 + 1) and `data` (4 + the rest).
    fn item_of(bytes: usize) -> Value {
        json!({"pk": {"S": "k"}, "data": {"S": "x".repeat(bytes - 3 - 4)}})
    }

    #[test]
    fn put_item_takes_items_up_to_400_kb() {
        let put = |bytes| json!({"TableName": "t", "Item": item_of(bytes)});
        assert_eq!(dynamodb("DynamoDB_20120810.PutItem", &put(MAX_ITEM_BYTES)), None);
        assert_eq!(
            message(dynamodb("DynamoDB_20120810.PutItem", &put(MAX_ITEM_BYTES + 1))),
            "Item size has exceeded the maximum allowed size (local stack: the item is 409601 bytes, limit 409600)"
        );
    }

    #[test]
    fn transact_write_items_takes_100_actions_and_items_up_to_400_kb() {
        let actions = |count: usize, item: Value| {
            let mut actions: Vec<Value> = (0..count)
                .map(|i| json!({"Delete": {"TableName": "t", "Key": {"pk": {"S": i.to_string()}}}}))
                .collect();
            actions[0] = json!({"Put": {"TableName": "t", "Item": item}});
            json!({"TransactItems": actions})
        };
        let target = "DynamoDB_20120810.TransactWriteItems";
        assert_eq!(dynamodb(target, &actions(100, item_of(MAX_ITEM_BYTES))), None);
        assert_eq!(
            message(dynamodb(target, &actions(101, item_of(1_000)))),
            "1 validation error detected: Value at 'TransactItems' failed to satisfy constraint: \
             Member must have length less than or equal to 100 (local stack: 101 actions)"
        );
        assert!(
            message(dynamodb(target, &actions(2, item_of(MAX_ITEM_BYTES + 1)))).starts_with("Item size has exceeded")
        );
    }

    fn writes(count: usize) -> Vec<Value> {
        (0..count).map(|i| json!({"PutRequest": {"Item": {"pk": {"S": i.to_string()}}}})).collect()
    }

    #[test]
    fn batch_write_item_takes_25_requests_across_tables() {
        let target = "DynamoDB_20120810.BatchWriteItem";
        assert_eq!(dynamodb(target, &json!({"RequestItems": {"a": writes(25)}})), None);
        assert_eq!(dynamodb(target, &json!({"RequestItems": {"a": writes(20), "b": writes(5)}})), None);
        assert_eq!(
            message(dynamodb(target, &json!({"RequestItems": {"a": writes(26)}}))),
            "1 validation error detected: Value at 'RequestItems.a.member' failed to satisfy constraint: \
             Member must have length less than or equal to 25 (local stack: 26 requests for a)"
        );
        assert_eq!(
            message(dynamodb(target, &json!({"RequestItems": {"a": writes(20), "b": writes(6)}}))),
            "Too many items requested for the BatchWriteItem call (local stack: 26 requests across tables, limit 25)"
        );
        let mut big = writes(2);
        big[1] = json!({"PutRequest": {"Item": item_of(MAX_ITEM_BYTES + 1)}});
        assert!(message(dynamodb(target, &json!({"RequestItems": {"a": big}}))).starts_with("Item size has exceeded"));
        big[1] = json!({"PutRequest": {"Item": item_of(MAX_ITEM_BYTES)}});
        assert_eq!(dynamodb(target, &json!({"RequestItems": {"a": big}})), None);
    }

    fn keys(count: usize) -> Value {
        let keys: Vec<Value> = (0..count).map(|i| json!({"pk": {"S": i.to_string()}})).collect();
        json!({"Keys": keys})
    }

    #[test]
    fn batch_get_item_takes_100_keys_across_tables() {
        let target = "DynamoDB_20120810.BatchGetItem";
        assert_eq!(dynamodb(target, &json!({"RequestItems": {"a": keys(100)}})), None);
        assert_eq!(dynamodb(target, &json!({"RequestItems": {"a": keys(60), "b": keys(40)}})), None);
        assert_eq!(
            message(dynamodb(target, &json!({"RequestItems": {"a": keys(101)}}))),
            "1 validation error detected: Value at 'RequestItems.a.member.Keys' failed to satisfy constraint: \
             Member must have length less than or equal to 100 (local stack: 101 keys for a)"
        );
        assert_eq!(
            message(dynamodb(target, &json!({"RequestItems": {"a": keys(60), "b": keys(41)}}))),
            "Too many items requested for the BatchGetItem call (local stack: 101 keys across tables, limit 100)"
        );
    }

    #[test]
    fn transact_get_items_takes_100_actions() {
        let gets = |count: usize| {
            let gets: Vec<Value> =
                (0..count).map(|i| json!({"Get": {"TableName": "t", "Key": {"pk": {"S": i.to_string()}}}})).collect();
            json!({"TransactItems": gets})
        };
        let target = "DynamoDB_20120810.TransactGetItems";
        assert_eq!(dynamodb(target, &gets(100)), None);
        assert!(message(dynamodb(target, &gets(101))).ends_with("less than or equal to 100 (local stack: 101 actions)"));
    }
}
