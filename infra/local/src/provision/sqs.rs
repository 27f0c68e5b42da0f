//! SQS queues: created or converged (safe to run twice), DLQ redrive included.

use std::collections::HashMap;

use aws_sdk_sqs::types::QueueAttributeName;
use aws_sdk_sqs::Client;
use serde_json::{json, Value};
use tracing::debug;

use super::{attribute_string, generated_name, is_true, PhysicalResource, ProvisionError};
use crate::template::{types, ResourceFacts, StackContext};

/// Queue properties passed through as attributes of the same name.
const PASSTHROUGH: &[&str] = &[
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "FifoQueue",
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "FifoThroughputLimit",
    "KmsMasterKeyId",
    "KmsDataKeyReusePeriodSeconds",
    "SqsManagedSseEnabled",
];

/// Creates the queue, or brings an existing one's attributes in line.
pub async fn ensure_queue(
    client: &Client,
    id: &str,
    props: &Value,
    ctx: &StackContext,
) -> Result<PhysicalResource, ProvisionError> {
    let fifo = is_true(props.get("FifoQueue"));
    let mut name =
        props.get("QueueName").and_then(Value::as_str).map_or_else(|| generated_name(ctx, id), str::to_owned);
    if fifo && !name.ends_with(".fifo") {
        name.push_str(".fifo");
    }
    let attributes = queue_attributes(id, props)?;

    let existing = client.get_queue_url().queue_name(&name).send().await;
    let url = match existing {
        Ok(out) => {
            let url = out.queue_url.unwrap_or_default();
            // FifoQueue cannot be changed after creation; the rest converges.
            let mut update = attributes.clone();
            update.remove(&QueueAttributeName::FifoQueue);
            if !update.is_empty() {
                client
                    .set_queue_attributes()
                    .queue_url(&url)
                    .set_attributes(Some(update))
                    .send()
                    .await
                    .map_err(ProvisionError::aws(id, "SetQueueAttributes"))?;
            }
            debug!(queue = %name, "queue existed; attributes converged");
            url
        }
        Err(err) if err.as_service_error().is_some_and(|e| e.is_queue_does_not_exist()) => client
            .create_queue()
            .queue_name(&name)
            .set_attributes(Some(attributes))
            .send()
            .await
            .map_err(ProvisionError::aws(id, "CreateQueue"))?
            .queue_url
            .unwrap_or_default(),
        Err(err) => return Err(ProvisionError::aws(id, "GetQueueUrl")(err)),
    };

    let arn = client
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(ProvisionError::aws(id, "GetQueueAttributes"))?
        .attributes
        .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
        .ok_or_else(|| ProvisionError::invalid(id, "the emulator returned no QueueArn"))?;

    Ok(PhysicalResource {
        logical_id: id.to_owned(),
        kind: types::SQS_QUEUE.to_owned(),
        facts: ResourceFacts {
            reference: url.clone(),
            attributes: [
                ("Arn".to_owned(), arn.clone()),
                ("QueueName".to_owned(), name.clone()),
                ("QueueUrl".to_owned(), url.clone()),
            ]
            .into(),
        },
        name,
        arn: Some(arn),
        url: Some(url),
        stream_arn: None,
    })
}

fn queue_attributes(id: &str, props: &Value) -> Result<HashMap<QueueAttributeName, String>, ProvisionError> {
    let mut attributes = HashMap::new();
    for key in PASSTHROUGH {
        if let Some(value) = props.get(*key).and_then(attribute_string) {
            attributes.insert(QueueAttributeName::from(*key), value);
        }
    }
    if let Some(policy) = props.get("RedrivePolicy") {
        attributes.insert(QueueAttributeName::RedrivePolicy, redrive_policy(id, policy)?);
    }
    if props.get("RedriveAllowPolicy").is_some() {
        debug!(queue = id, "RedriveAllowPolicy is not supported by the emulator; skipped");
    }
    Ok(attributes)
}

/// The redrive policy as SQS wants it: JSON with a numeric maxReceiveCount
/// (a `!Ref` to a Number parameter arrives as a string).
fn redrive_policy(id: &str, policy: &Value) -> Result<String, ProvisionError> {
    let object = match policy {
        Value::String(text) => serde_json::from_str::<Value>(text)
            .map_err(|e| ProvisionError::invalid(id, format!("RedrivePolicy is not JSON: {e}")))?,
        other => other.clone(),
    };
    let target = object
        .get("deadLetterTargetArn")
        .and_then(Value::as_str)
        .ok_or_else(|| ProvisionError::invalid(id, "RedrivePolicy needs deadLetterTargetArn"))?;
    let count = match object.get("maxReceiveCount") {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.parse().ok(),
        _ => None,
    }
    .ok_or_else(|| ProvisionError::invalid(id, "RedrivePolicy needs a numeric maxReceiveCount"))?;
    Ok(json!({"deadLetterTargetArn": target, "maxReceiveCount": count}).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redrive_policy_gets_a_numeric_count() {
        let policy = json!({"deadLetterTargetArn": "arn:dlq", "maxReceiveCount": "5"});
        let text = redrive_policy("Q", &policy).expect("policy");
        let parsed: Value = serde_json::from_str(&text).expect("json");
        assert_eq!(parsed, json!({"deadLetterTargetArn": "arn:dlq", "maxReceiveCount": 5}));
    }

    #[test]
    fn attributes_are_stringified() {
        let props = json!({"VisibilityTimeout": 60, "FifoQueue": true, "QueueName": "x"});
        let attrs = queue_attributes("Q", &props).expect("attrs");
        assert_eq!(attrs[&QueueAttributeName::VisibilityTimeout], "60");
        assert_eq!(attrs[&QueueAttributeName::FifoQueue], "true");
        assert!(!attrs.contains_key(&QueueAttributeName::from("QueueName")));
    }
}
