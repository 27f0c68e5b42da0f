//! The real-time channel on AWS IoT Core: an HTTPS `Publish` to the user's MQTT
//! topic (the frontend subscribes over MQTT-over-WebSocket, as in the seed).

use async_trait::async_trait;
use aws_sdk_iotdataplane::primitives::Blob;
use kit::sdk::classify_sdk_error;

use crate::ports::{ChannelError, RealtimeChannel};

pub struct IotChannel {
    client: aws_sdk_iotdataplane::Client,
}

impl IotChannel {
    pub fn new(client: aws_sdk_iotdataplane::Client) -> Self {
        Self { client }
    }
}

#[async_trait]
impl RealtimeChannel for IotChannel {
    async fn publish(&self, topic: &str, payload: Vec<u8>) -> Result<(), ChannelError> {
        self.client
            .publish()
            .topic(topic)
            // At least once to connected subscribers; they dedupe by notificationId.
            .qos(1)
            .payload(Blob::new(payload))
            .send()
            .await
            .map_err(|e| ChannelError::Publish(classify_sdk_error(&e)))?;
        Ok(())
    }
}
