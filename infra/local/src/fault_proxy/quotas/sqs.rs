//! SQS over AWS JSON 1.0 (`X-Amz-Target: AmazonSQS.*`).
//!
//! Limits: the SQS Developer Guide's message quotas (10 entries per batch;
//! 1 MiB per message and per batch since August 2025 — the API reference's
//! `MessageAttributeValue`: "All parts of the message attribute, including
//! Name, Type, and Value, are part of the message size restriction (1 MiB or
//! 1,048,576 bytes)"), and `ChangeMessageVisibility`'s `VisibilityTimeout`
//! range, 0 to 43200.
//!
//! Codes: the SDK for Rust (aws-sdk-sqs 1.119,
//! `protocol_serde/shape_*_batch.rs`) matches the `x-amzn-query-error` code,
//! `AWS.SimpleQueueService.<Name>` for the modelled batch errors, and the
//! `__type` is `com.amazonaws.sqs#<Name>` (as elasticmq answers, and the
//! Smithy model's shape ids). An over-size `SendMessage` is not a modelled
//! error: AWS answers `__type: com.amazon.coral.service#InvalidParameterValueException`
//! with `x-amzn-query-error: InvalidParameterValue;Sender` (seen from a real
//! queue in artillery issue #3683, January 2026), which the SDK surfaces as an
//! unhandled error whose `code()` is `InvalidParameterValue`.
//!
//! Messages: AWS's as reported by SDK users and copied by moto 5.2.5
//! (`sqs/exceptions.py`: "Maximum number of entries per request are 10. You
//! have sent 11.", "Batch requests cannot be longer than 1048576 bytes. You
//! have sent N bytes.", "Id x repeated.", "There should be at least one
//! SendMessageBatchRequestEntry in the request.") and the queue's "One or
//! more parameters are invalid. Reason: Message must be shorter than 1048576
//! bytes." The visibility message is the wording SQS uses for its other
//! out-of-range parameters ("Value N for parameter VisibilityTimeout is
//! invalid. Reason: Must be between 0 and 43200, if provided.").

use serde_json::Value;

use super::{attribute_bytes, first_repeated_id, json_body, list_items, message_attributes, with_detail};
use super::{ErrorShape, QuotaViolation};

/// Message size, and a batch's total payload: 1 MiB (August 2025).
pub const MAX_MESSAGE_BYTES: usize = 1_048_576;
/// Entries in `SendMessageBatch`, `DeleteMessageBatch`, `ChangeMessageVisibilityBatch`.
pub const MAX_BATCH_ENTRIES: usize = 10;
/// `ChangeMessageVisibility`'s `VisibilityTimeout`, in seconds (12 hours).
pub const MAX_VISIBILITY_TIMEOUT: i64 = 43_200;

const fn modelled(type_name: &'static str, query_code: &'static str) -> ErrorShape {
    ErrorShape::AwsJsonQueryCompatible { type_name, query_code }
}

const INVALID_PARAMETER_VALUE: ErrorShape =
    modelled("com.amazon.coral.service#InvalidParameterValueException", "InvalidParameterValue");
const EMPTY_BATCH: ErrorShape =
    modelled("com.amazonaws.sqs#EmptyBatchRequest", "AWS.SimpleQueueService.EmptyBatchRequest");
const TOO_MANY_ENTRIES: ErrorShape =
    modelled("com.amazonaws.sqs#TooManyEntriesInBatchRequest", "AWS.SimpleQueueService.TooManyEntriesInBatchRequest");
const IDS_NOT_DISTINCT: ErrorShape =
    modelled("com.amazonaws.sqs#BatchEntryIdsNotDistinct", "AWS.SimpleQueueService.BatchEntryIdsNotDistinct");
const BATCH_TOO_LONG: ErrorShape =
    modelled("com.amazonaws.sqs#BatchRequestTooLong", "AWS.SimpleQueueService.BatchRequestTooLong");

pub fn check(operation: &str, body: &[u8]) -> Option<QuotaViolation> {
    match operation {
        "SendMessage" => send_message(&json_body(body)?),
        "SendMessageBatch" => send_message_batch(&json_body(body)?),
        "DeleteMessageBatch" | "ChangeMessageVisibilityBatch" => batch_entries(operation, &json_body(body)?).err(),
        "ChangeMessageVisibility" => change_message_visibility(&json_body(body)?),
        _ => None,
    }
}

/// A message's size as SQS counts it: the body's UTF-8 bytes plus every
/// message attribute's name, type and value. System attributes
/// (`AWSTraceHeader`) do not count.
pub fn message_bytes(message: &Value) -> (usize, usize) {
    let body = message.get("MessageBody").and_then(Value::as_str).map_or(0, str::len);
    let attributes = message_attributes(message.get("MessageAttributes"), false)
        .into_iter()
        .map(|(n, v)| attribute_bytes(n, v))
        .sum();
    (body, attributes)
}

fn send_message(request: &Value) -> Option<QuotaViolation> {
    let (body, attributes) = message_bytes(request);
    let total = body + attributes;
    (total > MAX_MESSAGE_BYTES).then(|| {
        QuotaViolation::bad_request(
            "SQS.SendMessage message size",
            INVALID_PARAMETER_VALUE,
            with_detail(
                &format!("One or more parameters are invalid. Reason: Message must be shorter than {MAX_MESSAGE_BYTES} bytes."),
                format_args!("the message is {total} bytes: body {body}, attributes {attributes}"),
            ),
        )
    })
}

/// The rules every batch shares: not empty, at most 10 entries, distinct ids.
fn batch_entries<'a>(operation: &str, request: &'a Value) -> Result<Vec<&'a Value>, QuotaViolation> {
    let Some(entries) = list_items(request.get("Entries")) else { return Ok(Vec::new()) };
    if entries.is_empty() {
        return Err(QuotaViolation::bad_request(
            "SQS batch entries",
            EMPTY_BATCH,
            format!("There should be at least one {operation}RequestEntry in the request."),
        ));
    }
    if entries.len() > MAX_BATCH_ENTRIES {
        return Err(QuotaViolation::bad_request(
            "SQS batch entries",
            TOO_MANY_ENTRIES,
            format!("Maximum number of entries per request are {MAX_BATCH_ENTRIES}. You have sent {}.", entries.len()),
        ));
    }
    if let Some(id) = first_repeated_id(&entries) {
        return Err(QuotaViolation::bad_request("SQS batch entry ids", IDS_NOT_DISTINCT, format!("Id {id} repeated.")));
    }
    Ok(entries)
}

fn send_message_batch(request: &Value) -> Option<QuotaViolation> {
    let entries = match batch_entries("SendMessageBatch", request) {
        Ok(entries) => entries,
        Err(violation) => return Some(violation),
    };
    // One over-size entry makes the whole batch too long: AWS answers
    // BatchRequestTooLong for it too, not a per-entry failure.
    let total: usize = entries.iter().copied().map(message_bytes).map(|(body, attrs)| body + attrs).sum();
    (total > MAX_MESSAGE_BYTES).then(|| {
        QuotaViolation::bad_request(
            "SQS.SendMessageBatch payload size",
            BATCH_TOO_LONG,
            format!("Batch requests cannot be longer than {MAX_MESSAGE_BYTES} bytes. You have sent {total} bytes."),
        )
    })
}

fn change_message_visibility(request: &Value) -> Option<QuotaViolation> {
    let timeout = request.get("VisibilityTimeout").and_then(Value::as_i64)?;
    (timeout > MAX_VISIBILITY_TIMEOUT).then(|| {
        QuotaViolation::bad_request(
            "SQS.ChangeMessageVisibility VisibilityTimeout",
            INVALID_PARAMETER_VALUE,
            format!(
                "Value {timeout} for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and {MAX_VISIBILITY_TIMEOUT}, if provided."
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

    fn sqs(operation: &'static str, request: &Value) -> Option<QuotaViolation> {
        let header = match operation {
            "SendMessage" => "AmazonSQS.SendMessage",
            "SendMessageBatch" => "AmazonSQS.SendMessageBatch",
            "DeleteMessageBatch" => "AmazonSQS.DeleteMessageBatch",
            "ChangeMessageVisibilityBatch" => "AmazonSQS.ChangeMessageVisibilityBatch",
            "ChangeMessageVisibility" => "AmazonSQS.ChangeMessageVisibility",
            other => panic!("{other}"),
        };
        super::super::check(&Method::POST, "/", &target(header), None, request.to_string().as_bytes())
    }

    fn code(violation: Option<QuotaViolation>) -> &'static str {
        violation.expect("refused").error.code()
    }

    const QUEUE: &str = "http://127.0.0.1:4566/000000000000/q";

    /// A message of exactly `bytes`, counting one String attribute.
    fn message_of(bytes: usize) -> Value {
        // name "k" (1) + "String" (6) + "v" (1) = 8 bytes of attribute.
        json!({"QueueUrl": QUEUE, "MessageBody": "x".repeat(bytes - 8),
            "MessageAttributes": {"k": {"DataType": "String", "StringValue": "v"}},
            "MessageSystemAttributes": {"AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1-0-0"}}})
    }

    #[test]
    fn send_message_counts_body_and_attributes_up_to_1_mib() {
        assert_eq!(sqs("SendMessage", &message_of(MAX_MESSAGE_BYTES)), None);
        let refused = sqs("SendMessage", &message_of(MAX_MESSAGE_BYTES + 1)).expect("refused");
        assert_eq!(refused.status, 400);
        assert_eq!(refused.error.code(), "InvalidParameterValue");
        assert_eq!(
            refused.message,
            "One or more parameters are invalid. Reason: Message must be shorter than 1048576 bytes. \
             (local stack: the message is 1048577 bytes: body 1048569, attributes 8)"
        );
        // UTF-8 bytes, not characters: 2 bytes each.
        let multibyte = json!({"QueueUrl": QUEUE, "MessageBody": "é".repeat(MAX_MESSAGE_BYTES / 2 + 1)});
        assert_eq!(code(sqs("SendMessage", &multibyte)), "InvalidParameterValue");
        // A binary attribute counts its decoded bytes (3 per 4 base64 symbols).
        let binary = json!({"QueueUrl": QUEUE, "MessageBody": "x".repeat(MAX_MESSAGE_BYTES - 10 - 3),
            "MessageAttributes": {"b": {"DataType": "Binary", "BinaryValue": "AAAA"}}});
        assert_eq!(message_bytes(&binary), (MAX_MESSAGE_BYTES - 13, 1 + 6 + 3));
        assert_eq!(sqs("SendMessage", &binary), None);
    }

    fn entries(count: usize, body: &str) -> Value {
        let entries: Vec<Value> = (0..count).map(|i| json!({"Id": format!("m{i}"), "MessageBody": body})).collect();
        json!({"QueueUrl": QUEUE, "Entries": entries})
    }

    #[test]
    fn send_message_batch_takes_1_to_10_distinct_entries() {
        assert_eq!(sqs("SendMessageBatch", &entries(10, "x")), None);
        let refused = sqs("SendMessageBatch", &entries(11, "x")).expect("refused");
        assert_eq!(refused.error.code(), "AWS.SimpleQueueService.TooManyEntriesInBatchRequest");
        assert_eq!(refused.message, "Maximum number of entries per request are 10. You have sent 11.");

        let refused = sqs("SendMessageBatch", &entries(0, "x")).expect("refused");
        assert_eq!(refused.error.code(), "AWS.SimpleQueueService.EmptyBatchRequest");
        assert_eq!(refused.message, "There should be at least one SendMessageBatchRequestEntry in the request.");

        let duplicate = json!({"QueueUrl": QUEUE, "Entries": [
            {"Id": "a", "MessageBody": "1"}, {"Id": "b", "MessageBody": "2"}, {"Id": "a", "MessageBody": "3"}]});
        let refused = sqs("SendMessageBatch", &duplicate).expect("refused");
        assert_eq!(refused.error.code(), "AWS.SimpleQueueService.BatchEntryIdsNotDistinct");
        assert_eq!(refused.message, "Id a repeated.");
    }

    #[test]
    fn send_message_batch_payload_is_at_most_1_mib_in_total() {
        // 4 entries of 262,144 bytes: exactly 1 MiB.
        let quarter = "x".repeat(MAX_MESSAGE_BYTES / 4);
        assert_eq!(sqs("SendMessageBatch", &entries(4, &quarter)), None);
        let mut over = entries(4, &quarter);
        over["Entries"][0]["MessageAttributes"] = json!({"k": {"DataType": "Number", "StringValue": "1"}});
        let refused = sqs("SendMessageBatch", &over).expect("refused");
        assert_eq!(refused.error.code(), "AWS.SimpleQueueService.BatchRequestTooLong");
        assert_eq!(refused.message, "Batch requests cannot be longer than 1048576 bytes. You have sent 1048584 bytes.");
        // A single entry over 1 MiB is the batch's error too.
        assert_eq!(
            code(sqs("SendMessageBatch", &entries(1, &"x".repeat(MAX_MESSAGE_BYTES + 1)))),
            "AWS.SimpleQueueService.BatchRequestTooLong"
        );
    }

    fn handles(count: usize) -> Value {
        let entries: Vec<Value> =
            (0..count).map(|i| json!({"Id": i.to_string(), "ReceiptHandle": "h", "VisibilityTimeout": 60})).collect();
        json!({"QueueUrl": QUEUE, "Entries": entries})
    }

    #[test]
    fn delete_and_change_visibility_batches_take_1_to_10_distinct_entries() {
        for operation in ["DeleteMessageBatch", "ChangeMessageVisibilityBatch"] {
            assert_eq!(sqs(operation, &handles(10)), None, "{operation}");
            assert_eq!(code(sqs(operation, &handles(11))), "AWS.SimpleQueueService.TooManyEntriesInBatchRequest");
            let empty = sqs(operation, &handles(0)).expect("refused");
            assert_eq!(empty.error.code(), "AWS.SimpleQueueService.EmptyBatchRequest");
            assert_eq!(empty.message, format!("There should be at least one {operation}RequestEntry in the request."));
            let mut twice = handles(2);
            twice["Entries"][1]["Id"] = json!("0");
            assert_eq!(code(sqs(operation, &twice)), "AWS.SimpleQueueService.BatchEntryIdsNotDistinct");
        }
        // A batch entry's VisibilityTimeout is not the whole request's error:
        // the emulator fails that entry alone (Failed[].Code InvalidParameterValue).
        let mut long = handles(2);
        long["Entries"][0]["VisibilityTimeout"] = json!(43_201);
        assert_eq!(sqs("ChangeMessageVisibilityBatch", &long), None);
        // Missing entries are the emulator's to refuse (a missing parameter, not a quota).
        assert_eq!(sqs("DeleteMessageBatch", &json!({"QueueUrl": QUEUE})), None);
    }

    #[test]
    fn visibility_timeout_is_at_most_12_hours() {
        let request = |timeout: i64| json!({"QueueUrl": QUEUE, "ReceiptHandle": "h", "VisibilityTimeout": timeout});
        assert_eq!(sqs("ChangeMessageVisibility", &request(43_200)), None);
        assert_eq!(sqs("ChangeMessageVisibility", &request(0)), None);
        let refused = sqs("ChangeMessageVisibility", &request(43_201)).expect("refused");
        assert_eq!(refused.error.code(), "InvalidParameterValue");
        assert_eq!(
            refused.message,
            "Value 43201 for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200, if provided."
        );
    }
}
