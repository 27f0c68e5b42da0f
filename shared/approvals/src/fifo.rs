//! The FIFO decisions queue as the [`DecisionQueue`]: group = deduplication id =
//! request id, so within SQS's 5-minute window a second send of the same
//! decision is dropped by SQS itself.

use async_trait::async_trait;
use aws_sdk_sqs::types::MessageAttributeValue;
use kit::sdk::classify_sdk_error;
use kit::Envelope;

use crate::messages::DecisionMade;
use crate::ports::{DecisionQueue, EnqueueError};

pub struct SqsDecisionQueue {
    client: aws_sdk_sqs::Client,
    queue_url: String,
}

impl SqsDecisionQueue {
    pub fn new(client: aws_sdk_sqs::Client, queue_url: impl Into<String>) -> Self {
        Self { client, queue_url: queue_url.into() }
    }
}

#[async_trait]
impl DecisionQueue for SqsDecisionQueue {
    async fn send(&self, message: &Envelope<DecisionMade>) -> Result<(), EnqueueError> {
        let body = serde_json::to_string(message).map_err(EnqueueError::Serialise)?;
        let mut request = self
            .client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body)
            .message_group_id(&message.payload.request_id)
            .message_deduplication_id(&message.payload.request_id);
        // SQS refuses empty attribute values.
        if !message.correlation_id.is_empty() {
            if let Ok(attr) =
                MessageAttributeValue::builder().data_type("String").string_value(&message.correlation_id).build()
            {
                request = request.message_attributes(kit::decode::CORRELATION_ATTRIBUTE, attr);
            }
        }
        request.send().await.map_err(|e| EnqueueError::Sqs(classify_sdk_error(&e)))?;
        Ok(())
    }
}
