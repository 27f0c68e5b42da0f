//! Publishing a step's event to the next steps' topic.

use async_trait::async_trait;
use aws_sdk_sns::types::MessageAttributeValue;

use crate::envelope::{Envelope, Message};
use crate::error::{Classify, ErrorClass};
use crate::sdk::{classify_sdk_error, SdkFailure};

/// Why an event was not published.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The event does not serialise: permanent.
    #[error("could not serialise the event: {0}")]
    Serialise(#[source] serde_json::Error),
    /// SNS refused or failed.
    #[error("SNS Publish failed: {0}")]
    Sns(SdkFailure),
}

impl Classify for PublishError {
    fn class(&self) -> ErrorClass {
        match self {
            PublishError::Serialise(_) => ErrorClass::Permanent,
            PublishError::Sns(f) => f.class,
        }
    }
    fn kind(&self) -> &'static str {
        match self {
            PublishError::Serialise(_) => "publish_serialise",
            PublishError::Sns(_) => "publish_failed",
        }
    }
}

/// The port: a step says what happened; subscriptions decide who hears it.
#[async_trait]
pub trait EventPublisher: Send + Sync + 'static {
    /// Publishes `event`.
    async fn publish<M: Message>(&self, event: &Envelope<M>) -> Result<(), PublishError>;
}

/// SNS adapter. `type` and `version` go out as message attributes, so subscriptions
/// can filter on them without parsing bodies.
pub struct SnsPublisher {
    client: aws_sdk_sns::Client,
    topic_arn: String,
}

impl SnsPublisher {
    /// A publisher to `topic_arn` (a `.fifo` topic gets the group and deduplication ids).
    pub fn new(client: aws_sdk_sns::Client, topic_arn: impl Into<String>) -> Self {
        Self { client, topic_arn: topic_arn.into() }
    }
}

fn string_attr(v: &str) -> Option<MessageAttributeValue> {
    MessageAttributeValue::builder().data_type("String").string_value(v).build().ok()
}

#[async_trait]
impl EventPublisher for SnsPublisher {
    async fn publish<M: Message>(&self, event: &Envelope<M>) -> Result<(), PublishError> {
        let body = serde_json::to_string(event).map_err(PublishError::Serialise)?;
        let mut req = self.client.publish().topic_arn(&self.topic_arn).message(body);
        for (name, value) in [
            ("type", event.kind.clone()),
            ("version", event.version.to_string()),
            ("correlation_id", event.correlation_id.clone()),
        ] {
            if let Some(v) = string_attr(&value) {
                req = req.message_attributes(name, v);
            }
        }
        if self.topic_arn.ends_with(".fifo") {
            req = req.message_group_id(&event.workflow_id).message_deduplication_id(&event.id);
        }
        req.send().await.map_err(|e| PublishError::Sns(classify_sdk_error(&e)))?;
        Ok(())
    }
}
