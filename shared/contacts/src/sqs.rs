//! A step queue the sweep feeds, on SQS: batches of ten, the envelope's type and
//! correlation id as attributes (as SNS raw delivery would set them).

use async_trait::async_trait;
use aws_sdk_sqs::types::{MessageAttributeValue, SendMessageBatchRequestEntry};
use kit::sdk::{classify_sdk_error, SdkFailure};
use kit::{Envelope, Message};

use crate::ports::{WorkQueue, WorkQueueError};

/// SendMessageBatch takes ten entries at most.
const BATCH: usize = 10;

pub struct SqsWorkQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl SqsWorkQueue {
    pub fn new(client: aws_sdk_sqs::Client, url: impl Into<String>) -> Self {
        Self { client, url: url.into() }
    }
}

fn attribute(value: &str) -> Result<MessageAttributeValue, WorkQueueError> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .map_err(|e| WorkQueueError::Sdk(SdkFailure::permanent(e.to_string())))
}

#[async_trait]
impl WorkQueue for SqsWorkQueue {
    async fn send<M: Message>(&self, messages: &[Envelope<M>]) -> Result<(), WorkQueueError> {
        for chunk in messages.chunks(BATCH) {
            let mut entries = Vec::with_capacity(chunk.len());
            for (i, message) in chunk.iter().enumerate() {
                let body = serde_json::to_string(message).map_err(WorkQueueError::Serialise)?;
                let entry = SendMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message_body(body)
                    .message_attributes("type", attribute(&message.kind)?)
                    .message_attributes(kit::decode::CORRELATION_ATTRIBUTE, attribute(&message.correlation_id)?)
                    .build()
                    .map_err(|e| WorkQueueError::Sdk(SdkFailure::permanent(e.to_string())))?;
                entries.push(entry);
            }
            let out = self
                .client
                .send_message_batch()
                .queue_url(&self.url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| WorkQueueError::Sdk(classify_sdk_error(&e)))?;
            if let Some(first) = out.failed().first() {
                return Err(WorkQueueError::Refused {
                    count: out.failed().len(),
                    reason: format!("{}: {}", first.code(), first.message().unwrap_or("no message")),
                });
            }
        }
        Ok(())
    }
}
