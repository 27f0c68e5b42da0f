//! The Lambda SQS event, built exactly as the SQS event source mapping sends it.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::{json, Map, Value};

/// One received message, converted at the edge from the SDK type so the event
/// shape can be built (and tested) without the SDK.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReceivedMessage {
    pub message_id: String,
    pub receipt_handle: String,
    pub body: String,
    pub md5_of_body: Option<String>,
    pub md5_of_message_attributes: Option<String>,
    /// System attributes: ApproximateReceiveCount, SentTimestamp, SenderId,
    /// ApproximateFirstReceiveTimestamp, and for FIFO MessageGroupId,
    /// MessageDeduplicationId, SequenceNumber.
    pub attributes: BTreeMap<String, String>,
    pub message_attributes: BTreeMap<String, MessageAttribute>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageAttribute {
    pub data_type: String,
    pub string_value: Option<String>,
    pub binary_value: Option<Vec<u8>>,
}

impl ReceivedMessage {
    pub fn from_sdk(message: &aws_sdk_sqs::types::Message) -> Self {
        let attributes = message
            .attributes()
            .map(|a| a.iter().map(|(k, v)| (k.as_str().to_owned(), v.clone())).collect())
            .unwrap_or_default();
        let message_attributes = message
            .message_attributes()
            .map(|a| {
                a.iter()
                    .map(|(name, value)| {
                        let attribute = MessageAttribute {
                            data_type: value.data_type().to_owned(),
                            string_value: value.string_value().map(str::to_owned),
                            binary_value: value.binary_value().map(|b| b.as_ref().to_vec()),
                        };
                        (name.clone(), attribute)
                    })
                    .collect()
            })
            .unwrap_or_default();
        Self {
            message_id: message.message_id().unwrap_or_default().to_owned(),
            receipt_handle: message.receipt_handle().unwrap_or_default().to_owned(),
            body: message.body().unwrap_or_default().to_owned(),
            md5_of_body: message.md5_of_body().map(str::to_owned),
            md5_of_message_attributes: message.md5_of_message_attributes().map(str::to_owned),
            attributes,
            message_attributes,
        }
    }
}

/// `{"Records": [...]}` for one batch.
pub fn sqs_event(messages: &[ReceivedMessage], queue_arn: &str, region: &str) -> Value {
    let records: Vec<Value> = messages.iter().map(|m| record(m, queue_arn, region)).collect();
    json!({ "Records": records })
}

fn record(message: &ReceivedMessage, queue_arn: &str, region: &str) -> Value {
    let message_attributes: Map<String, Value> = message
        .message_attributes
        .iter()
        .map(|(name, attribute)| {
            let mut value = Map::new();
            if let Some(s) = &attribute.string_value {
                value.insert("stringValue".into(), Value::String(s.clone()));
            }
            if let Some(b) = &attribute.binary_value {
                value.insert("binaryValue".into(), Value::String(base64::engine::general_purpose::STANDARD.encode(b)));
            }
            value.insert("stringListValues".into(), json!([]));
            value.insert("binaryListValues".into(), json!([]));
            value.insert("dataType".into(), Value::String(attribute.data_type.clone()));
            (name.clone(), Value::Object(value))
        })
        .collect();
    let mut record = json!({
        "messageId": message.message_id,
        "receiptHandle": message.receipt_handle,
        "body": message.body,
        "attributes": message.attributes,
        "messageAttributes": message_attributes,
        "md5OfBody": message.md5_of_body.clone().unwrap_or_default(),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    });
    if let (Some(md5), Some(map)) = (&message.md5_of_message_attributes, record.as_object_mut()) {
        map.insert("md5OfMessageAttributes".into(), Value::String(md5.clone()));
    }
    record
}

/// The message ids a function reported as failed (`batchItemFailures`), or
/// `None` when the response is invalid — which Lambda treats as the whole
/// batch failing. A null or empty response means every record succeeded.
pub fn reported_failures(response: &Value, batch: &[ReceivedMessage]) -> Option<Vec<String>> {
    let failures = match response {
        Value::Null => return Some(Vec::new()),
        Value::Object(map) => match map.get("batchItemFailures") {
            None | Some(Value::Null) => return Some(Vec::new()),
            Some(Value::Array(items)) => items,
            Some(_) => return None,
        },
        _ => return Some(Vec::new()),
    };
    let mut ids = Vec::with_capacity(failures.len());
    for failure in failures {
        let id = failure.get("itemIdentifier").and_then(Value::as_str)?;
        if id.is_empty() || !batch.iter().any(|m| m.message_id == id) {
            return None;
        }
        ids.push(id.to_owned());
    }
    Some(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(id: &str) -> ReceivedMessage {
        ReceivedMessage {
            message_id: id.into(),
            receipt_handle: format!("rh-{id}"),
            body: "{\"a\":1}".into(),
            md5_of_body: Some("md5".into()),
            md5_of_message_attributes: None,
            attributes: [
                ("ApproximateReceiveCount".to_string(), "1".to_string()),
                ("SentTimestamp".to_string(), "1700000000000".to_string()),
                ("SenderId".to_string(), "AIDA".to_string()),
                ("ApproximateFirstReceiveTimestamp".to_string(), "1700000000001".to_string()),
                ("MessageGroupId".to_string(), "g1".to_string()),
            ]
            .into(),
            message_attributes: [
                (
                    "type".to_string(),
                    MessageAttribute {
                        data_type: "String".into(),
                        string_value: Some("login".into()),
                        binary_value: None,
                    },
                ),
                (
                    "blob".to_string(),
                    MessageAttribute {
                        data_type: "Binary".into(),
                        string_value: None,
                        binary_value: Some(b"hi".to_vec()),
                    },
                ),
            ]
            .into(),
        }
    }

    #[test]
    fn event_has_the_lambda_shape() {
        let event = sqs_event(&[message("m1")], "arn:aws:sqs:eu-west-2:123456789012:q", "eu-west-2");
        let record = &event["Records"][0];
        assert_eq!(record["messageId"], "m1");
        assert_eq!(record["receiptHandle"], "rh-m1");
        assert_eq!(record["body"], "{\"a\":1}");
        assert_eq!(record["md5OfBody"], "md5");
        assert_eq!(record["eventSource"], "aws:sqs");
        assert_eq!(record["eventSourceARN"], "arn:aws:sqs:eu-west-2:123456789012:q");
        assert_eq!(record["awsRegion"], "eu-west-2");
        assert_eq!(record["attributes"]["ApproximateReceiveCount"], "1");
        assert_eq!(record["attributes"]["MessageGroupId"], "g1");
        assert_eq!(
            record["messageAttributes"]["type"],
            json!({"stringValue": "login", "stringListValues": [], "binaryListValues": [], "dataType": "String"})
        );
        assert_eq!(record["messageAttributes"]["blob"]["binaryValue"], "aGk=");
        assert!(record.get("md5OfMessageAttributes").is_none());
    }

    #[test]
    fn event_deserialises_as_the_runtime_type() {
        let event = sqs_event(&[message("m1")], "arn", "eu-west-2");
        let typed: aws_lambda_events::event::sqs::SqsEvent = serde_json::from_value(event).expect("shape");
        assert_eq!(typed.records.len(), 1);
        assert_eq!(typed.records[0].message_id.as_deref(), Some("m1"));
        assert_eq!(typed.records[0].message_attributes["type"].string_value.as_deref(), Some("login"));
    }

    #[test]
    fn batch_item_failures_are_read_and_validated() {
        let batch = [message("m1"), message("m2")];
        assert_eq!(reported_failures(&Value::Null, &batch), Some(vec![]));
        assert_eq!(reported_failures(&json!({}), &batch), Some(vec![]));
        assert_eq!(reported_failures(&json!({"batchItemFailures": []}), &batch), Some(vec![]));
        assert_eq!(
            reported_failures(&json!({"batchItemFailures": [{"itemIdentifier": "m2"}]}), &batch),
            Some(vec!["m2".to_string()])
        );
        // Unknown or empty identifiers make the whole batch fail, as on Lambda.
        assert_eq!(reported_failures(&json!({"batchItemFailures": [{"itemIdentifier": "zz"}]}), &batch), None);
        assert_eq!(reported_failures(&json!({"batchItemFailures": [{"itemIdentifier": ""}]}), &batch), None);
    }
}
