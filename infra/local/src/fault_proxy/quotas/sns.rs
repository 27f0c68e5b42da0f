//! SNS over the query protocol (`Action=Publish`, `Action=PublishBatch`).
//!
//! Limits: SNS's maximum message size stayed 256 KiB when SQS went to 1 MiB.
//! Since then a topic *may* raise it: "You can set the `MaximumMessageSize`
//! topic attribute to any integer value between 1,024 and 1,048,576 bytes. By
//! default, all existing and newly created topics have a `MaximumMessageSize`
//! of 262,144 bytes (256 KiB). When you publish a message, Amazon SNS
//! validates the combined size of the message body and message attributes
//! against the topic's configured `MaximumMessageSize`. If the combined size
//! exceeds the limit, Amazon SNS returns an `InvalidParameter` error" (SNS
//! Developer Guide, large-message-payloads). The proxy does not know topics'
//! attributes and applies the default; no topic in infra/template.yaml sets
//! it. `PublishBatch`: "up to 10 messages ... If you try to send more than 10
//! messages in a single batch request, you will receive a
//! TooManyEntriesInBatchRequest exception"; "the maximum total payload size
//! (the sum of the individual lengths of all of the batched messages)" is the
//! same 256 KiB (API reference, `PublishBatch`).
//!
//! What counts: the message, its subject and its attributes (name, type,
//! value) in UTF-8 bytes — floci's conformance fixes (#778/#783, checked
//! against SNS) count the subject too; it is at most 100 characters.
//!
//! Codes: botocore's model (`sns/2010-03-31`): `InvalidParameter`,
//! `TooManyEntriesInBatchRequest`, `BatchRequestTooLong`, `EmptyBatchRequest`,
//! `BatchEntryIdsNotDistinct`, all 400 Sender, parsed by aws-sdk-sns into
//! `InvalidParameterException`, `TooManyEntriesInBatchRequestException`...
//! Messages: "Invalid parameter: Message too long" is SNS's own (seen from
//! real topics: wellcomecollection/platform#1460, #1776); the batch errors'
//! texts are the model's documentation of each error (moto 5.2.5 uses the
//! same for the two it enforces).

use serde_json::Value;

use super::{attribute_bytes, first_repeated_id, list_items, message_attributes, with_detail};
use super::{ErrorShape, QuotaViolation};

/// A message (with subject and attributes), and a batch's total: 256 KiB.
pub const MAX_MESSAGE_BYTES: usize = 262_144;
/// Entries in `PublishBatch`.
pub const MAX_BATCH_ENTRIES: usize = 10;

const XMLNS: &str = "http://sns.amazonaws.com/doc/2010-03-31/";

const fn code(code: &'static str) -> ErrorShape {
    ErrorShape::AwsQuery { code, xmlns: XMLNS }
}

/// A message's size as SNS counts it (message, subject and attributes).
pub fn message_bytes(message: &Value) -> usize {
    let text = |field: &str| message.get(field).and_then(Value::as_str).map_or(0, str::len);
    let attributes: usize = message_attributes(message.get("MessageAttributes"), true)
        .into_iter()
        .map(|(n, v)| attribute_bytes(n, v))
        .sum();
    text("Message") + text("Subject") + attributes
}

pub fn check_publish(params: &Value) -> Option<QuotaViolation> {
    let size = message_bytes(params);
    (size > MAX_MESSAGE_BYTES).then(|| {
        QuotaViolation::bad_request(
            "SNS.Publish message size",
            code("InvalidParameter"),
            with_detail(
                "Invalid parameter: Message too long",
                format_args!("message, subject and attributes are {size} bytes, limit {MAX_MESSAGE_BYTES}"),
            ),
        )
    })
}

pub fn check_publish_batch(params: &Value) -> Option<QuotaViolation> {
    let entries = list_items(params.get("PublishBatchRequestEntries"))?;
    if entries.is_empty() {
        return Some(QuotaViolation::bad_request(
            "SNS.PublishBatch entries",
            code("EmptyBatchRequest"),
            "The batch request doesn't contain any entries.",
        ));
    }
    if entries.len() > MAX_BATCH_ENTRIES {
        return Some(QuotaViolation::bad_request(
            "SNS.PublishBatch entries",
            code("TooManyEntriesInBatchRequest"),
            with_detail(
                "The batch request contains more entries than permissible.",
                format_args!("{} entries, limit {MAX_BATCH_ENTRIES}", entries.len()),
            ),
        ));
    }
    if let Some(id) = first_repeated_id(&entries) {
        return Some(QuotaViolation::bad_request(
            "SNS.PublishBatch entry ids",
            code("BatchEntryIdsNotDistinct"),
            with_detail("Two or more batch entries in the request have the same Id.", format_args!("Id {id} repeated")),
        ));
    }
    let total: usize = entries.iter().copied().map(message_bytes).sum();
    (total > MAX_MESSAGE_BYTES).then(|| {
        QuotaViolation::bad_request(
            "SNS.PublishBatch payload size",
            code("BatchRequestTooLong"),
            with_detail(
                "The length of all the messages put together is more than the limit.",
                format_args!("{total} bytes, limit {MAX_MESSAGE_BYTES}"),
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use axum::http::Method;

    use super::super::tests::form;
    use super::*;

    const TOPIC: &str = "arn:aws:sns:eu-west-2:000000000000:t";

    fn encode(pairs: &[(String, String)]) -> Vec<u8> {
        form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish().into_bytes()
    }

    fn sns(pairs: &[(String, String)]) -> Option<QuotaViolation> {
        super::super::check(&Method::POST, "/", &form(), None, &encode(pairs))
    }

    fn pair(key: &str, value: impl Into<String>) -> (String, String) {
        (key.to_owned(), value.into())
    }

    /// Publish of exactly `bytes`: a 5-byte subject and one 8-byte attribute.
    fn publish_of(bytes: usize) -> Vec<(String, String)> {
        vec![
            pair("Action", "Publish"),
            pair("Version", "2010-03-31"),
            pair("TopicArn", TOPIC),
            pair("Subject", "hello"),
            pair("Message", "m".repeat(bytes - 5 - 8)),
            pair("MessageAttributes.entry.1.Name", "k"),
            pair("MessageAttributes.entry.1.Value.DataType", "String"),
            pair("MessageAttributes.entry.1.Value.StringValue", "v"),
        ]
    }

    #[test]
    fn publish_counts_message_subject_and_attributes_up_to_256_kib() {
        assert_eq!(sns(&publish_of(MAX_MESSAGE_BYTES)), None);
        let refused = sns(&publish_of(MAX_MESSAGE_BYTES + 1)).expect("refused");
        assert_eq!(refused.status, 400);
        assert_eq!(refused.error, ErrorShape::AwsQuery { code: "InvalidParameter", xmlns: XMLNS });
        assert_eq!(
            refused.message,
            "Invalid parameter: Message too long (local stack: message, subject and attributes are 262145 bytes, limit 262144)"
        );
        // Also when the Action comes in the query string.
        let query = "Action=Publish";
        let body = encode(&publish_of(MAX_MESSAGE_BYTES + 1)[1..]);
        assert!(super::super::check(&Method::POST, "/", &form(), Some(query), &body).is_some());
    }

    fn batch(count: usize, message: &str) -> Vec<(String, String)> {
        let mut pairs = vec![pair("Action", "PublishBatch"), pair("TopicArn", TOPIC)];
        for i in 1..=count {
            pairs.push(pair(&format!("PublishBatchRequestEntries.member.{i}.Id"), format!("e{i}")));
            pairs.push(pair(&format!("PublishBatchRequestEntries.member.{i}.Message"), message));
        }
        pairs
    }

    #[test]
    fn publish_batch_takes_1_to_10_distinct_entries() {
        assert_eq!(sns(&batch(10, "m")), None);
        let refused = sns(&batch(11, "m")).expect("refused");
        assert_eq!(refused.error.code(), "TooManyEntriesInBatchRequest");
        assert_eq!(
            refused.message,
            "The batch request contains more entries than permissible. (local stack: 11 entries, limit 10)"
        );
        // The SDK writes an empty list as `PublishBatchRequestEntries=`.
        let empty =
            vec![pair("Action", "PublishBatch"), pair("TopicArn", TOPIC), pair("PublishBatchRequestEntries", "")];
        assert_eq!(sns(&empty).expect("refused").error.code(), "EmptyBatchRequest");
        let mut twice = batch(3, "m");
        twice[6].1 = "e1".into();
        let refused = sns(&twice).expect("refused");
        assert_eq!(refused.error.code(), "BatchEntryIdsNotDistinct");
        assert!(refused.message.ends_with("(local stack: Id e1 repeated)"), "{}", refused.message);
    }

    #[test]
    fn publish_batch_payload_is_at_most_256_kib_in_total() {
        let quarter = "m".repeat(MAX_MESSAGE_BYTES / 4);
        assert_eq!(sns(&batch(4, &quarter)), None);
        let mut over = batch(4, &quarter);
        over.push(pair("PublishBatchRequestEntries.member.2.Subject", "s"));
        let refused = sns(&over).expect("refused");
        assert_eq!(refused.error.code(), "BatchRequestTooLong");
        assert_eq!(
            refused.message,
            "The length of all the messages put together is more than the limit. (local stack: 262145 bytes, limit 262144)"
        );
    }
}
