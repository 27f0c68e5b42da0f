//! The FIFO decisions queue, as the processor reads it: long polls, deletes after
//! the outcome is recorded, visibility heartbeats while an action runs.

use async_trait::async_trait;
use aws_sdk_sqs::types::MessageSystemAttributeName;
use kit::sdk::{classify_sdk_error, SdkFailure};
use kit::{Classify, ErrorClass};

/// One received message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub message_id: String,
    pub receipt: String,
    pub body: String,
    /// 1 on first delivery.
    pub receive_count: u32,
    /// The FIFO message group (the request id, as enqueue-decision and a redrive
    /// send it): the processor never handles two messages of one group at once.
    pub group_id: Option<String>,
}

impl Received {
    /// What the processor serialises on: the message group, or (no group: not a FIFO
    /// queue) the message itself.
    pub fn group(&self) -> &str {
        self.group_id.as_deref().unwrap_or(&self.message_id)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("SQS {operation} failed: {failure}")]
pub struct SourceError {
    pub operation: &'static str,
    pub failure: SdkFailure,
}

impl Classify for SourceError {
    fn class(&self) -> ErrorClass {
        self.failure.class
    }
    fn kind(&self) -> &'static str {
        "sqs_error"
    }
}

#[async_trait]
pub trait DecisionSource: Send + Sync + 'static {
    async fn receive(&self, max: usize, wait_secs: i32, visibility_secs: i32) -> Result<Vec<Received>, SourceError>;
    async fn delete(&self, receipt: &str) -> Result<(), SourceError>;
    /// Sets the message's visibility timeout from now (0 releases it at once).
    async fn set_visibility(&self, receipt: &str, secs: i32) -> Result<(), SourceError>;
}

pub struct SqsSource {
    client: aws_sdk_sqs::Client,
    queue_url: String,
}

impl SqsSource {
    pub fn new(client: aws_sdk_sqs::Client, queue_url: impl Into<String>) -> Self {
        Self { client, queue_url: queue_url.into() }
    }
}

fn err<E, R>(operation: &'static str) -> impl FnOnce(aws_sdk_sqs::error::SdkError<E, R>) -> SourceError
where
    E: aws_sdk_sqs::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    move |e| SourceError { operation, failure: classify_sdk_error(&e) }
}

#[async_trait]
impl DecisionSource for SqsSource {
    async fn receive(&self, max: usize, wait_secs: i32, visibility_secs: i32) -> Result<Vec<Received>, SourceError> {
        let out = self
            .client
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(i32::try_from(max.clamp(1, 10)).unwrap_or(1))
            .wait_time_seconds(wait_secs)
            .visibility_timeout(visibility_secs)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .message_system_attribute_names(MessageSystemAttributeName::MessageGroupId)
            .send()
            .await
            .map_err(err("ReceiveMessage"))?;
        Ok(out
            .messages
            .unwrap_or_default()
            .into_iter()
            .filter_map(|m| {
                let attribute = |name| m.attributes().and_then(|a| a.get(&name)).cloned();
                let receive_count = attribute(MessageSystemAttributeName::ApproximateReceiveCount)
                    .and_then(|c| c.parse().ok())
                    .unwrap_or(1);
                let group_id = attribute(MessageSystemAttributeName::MessageGroupId);
                Some(Received {
                    message_id: m.message_id?,
                    receipt: m.receipt_handle?,
                    body: m.body.unwrap_or_default(),
                    receive_count,
                    group_id,
                })
            })
            .collect())
    }

    async fn delete(&self, receipt: &str) -> Result<(), SourceError> {
        self.client
            .delete_message()
            .queue_url(&self.queue_url)
            .receipt_handle(receipt)
            .send()
            .await
            .map_err(err("DeleteMessage"))?;
        Ok(())
    }

    async fn set_visibility(&self, receipt: &str, secs: i32) -> Result<(), SourceError> {
        self.client
            .change_message_visibility()
            .queue_url(&self.queue_url)
            .receipt_handle(receipt)
            .visibility_timeout(secs)
            .send()
            .await
            .map_err(err("ChangeMessageVisibility"))?;
        Ok(())
    }
}
