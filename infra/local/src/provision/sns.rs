//! SNS topics and their SQS subscriptions (raw delivery, filter policies).

use std::collections::HashMap;

use aws_sdk_sns::Client;
use serde_json::Value;
use tracing::{debug, info};

use super::{attribute_string, generated_name, is_true, PhysicalResource, ProvisionError};
use crate::template::{types, ResourceFacts, StackContext};

const TOPIC_ATTRIBUTES: &[&str] =
    &["DisplayName", "FifoTopic", "ContentBasedDeduplication", "KmsMasterKeyId", "SignatureVersion", "TracingConfig"];

const SUBSCRIPTION_ATTRIBUTES: &[&str] =
    &["RawMessageDelivery", "FilterPolicyScope", "FilterPolicy", "RedrivePolicy", "DeliveryPolicy"];

/// CreateTopic is idempotent by name, so this is safe to run twice.
pub async fn ensure_topic(
    client: &Client,
    id: &str,
    props: &Value,
    ctx: &StackContext,
) -> Result<PhysicalResource, ProvisionError> {
    let fifo = is_true(props.get("FifoTopic"));
    let mut name =
        props.get("TopicName").and_then(Value::as_str).map_or_else(|| generated_name(ctx, id), str::to_owned);
    if fifo && !name.ends_with(".fifo") {
        name.push_str(".fifo");
    }
    let attributes: HashMap<String, String> = TOPIC_ATTRIBUTES
        .iter()
        .filter_map(|k| props.get(*k).and_then(attribute_string).map(|v| ((*k).to_owned(), v)))
        .collect();
    let arn = client
        .create_topic()
        .name(&name)
        .set_attributes(Some(attributes))
        .send()
        .await
        .map_err(ProvisionError::aws(id, "CreateTopic"))?
        .topic_arn
        .ok_or_else(|| ProvisionError::invalid(id, "the emulator returned no TopicArn"))?;
    if props.get("Subscription").is_some() {
        debug!(topic = id, "inline Subscription property is not provisioned; use AWS::SNS::Subscription");
    }
    Ok(PhysicalResource {
        logical_id: id.to_owned(),
        kind: types::SNS_TOPIC.to_owned(),
        facts: ResourceFacts {
            reference: arn.clone(),
            attributes: [("TopicArn".to_owned(), arn.clone()), ("TopicName".to_owned(), name.clone())].into(),
        },
        name,
        arn: Some(arn),
        url: None,
        stream_arn: None,
    })
}

/// Subscribes an SQS queue to a topic, or converges an existing subscription's
/// attributes. Other protocols (email, lambda, https) are skipped: nothing
/// local would receive them.
pub async fn ensure_subscription(
    client: &Client,
    id: &str,
    props: &Value,
) -> Result<Option<PhysicalResource>, ProvisionError> {
    let protocol = props.get("Protocol").and_then(Value::as_str).unwrap_or_default();
    if protocol != "sqs" {
        info!(subscription = id, protocol, "subscription protocol not emulated locally; skipped");
        return Ok(None);
    }
    let topic_arn = required(id, props, "TopicArn")?;
    let endpoint = required(id, props, "Endpoint")?;
    let attributes: Vec<(String, String)> = SUBSCRIPTION_ATTRIBUTES
        .iter()
        .filter_map(|k| props.get(*k).and_then(attribute_string).map(|v| ((*k).to_owned(), v)))
        .collect();

    let arn = match find_subscription(client, id, &topic_arn, &endpoint).await? {
        Some(arn) => {
            for (name, value) in &attributes {
                client
                    .set_subscription_attributes()
                    .subscription_arn(&arn)
                    .attribute_name(name)
                    .attribute_value(value)
                    .send()
                    .await
                    .map_err(ProvisionError::aws(id, "SetSubscriptionAttributes"))?;
            }
            debug!(subscription = id, "subscription existed; attributes converged");
            arn
        }
        None => client
            .subscribe()
            .topic_arn(&topic_arn)
            .protocol("sqs")
            .endpoint(&endpoint)
            .set_attributes(Some(attributes.into_iter().collect()))
            .return_subscription_arn(true)
            .send()
            .await
            .map_err(ProvisionError::aws(id, "Subscribe"))?
            .subscription_arn
            .ok_or_else(|| ProvisionError::invalid(id, "the emulator returned no SubscriptionArn"))?,
    };
    Ok(Some(PhysicalResource {
        logical_id: id.to_owned(),
        kind: types::SNS_SUBSCRIPTION.to_owned(),
        facts: ResourceFacts { reference: arn.clone(), attributes: Default::default() },
        name: arn.clone(),
        arn: Some(arn),
        url: None,
        stream_arn: None,
    }))
}

async fn find_subscription(
    client: &Client,
    id: &str,
    topic_arn: &str,
    endpoint: &str,
) -> Result<Option<String>, ProvisionError> {
    let mut next: Option<String> = None;
    loop {
        let page = client
            .list_subscriptions_by_topic()
            .topic_arn(topic_arn)
            .set_next_token(next.take())
            .send()
            .await
            .map_err(ProvisionError::aws(id, "ListSubscriptionsByTopic"))?;
        if let Some(found) =
            page.subscriptions().iter().find(|s| s.protocol() == Some("sqs") && s.endpoint() == Some(endpoint))
        {
            return Ok(found.subscription_arn().map(str::to_owned));
        }
        match page.next_token {
            Some(token) if !token.is_empty() => next = Some(token),
            _ => return Ok(None),
        }
    }
}

fn required(id: &str, props: &Value, key: &str) -> Result<String, ProvisionError> {
    props
        .get(key)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| ProvisionError::invalid(id, format!("{key} is required")))
}
