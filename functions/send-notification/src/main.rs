//! send-notification: consumes `send-notification` (fed by `workflow.action`);
//! stores one notification per recipient and publishes it to the recipient's
//! AWS IoT topic `notifications-{user_id}`, once per notification.

mod config;
mod handler;

use std::sync::Arc;

use audit::dynamo::DynamoNotifications;
use audit::iot::IotChannel;
use kit::clock::SystemClock;
use kit::decode::EnvelopeBody;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let started = kit::start::step(handler::STEP, config::TABLE, config::Config::read).await;
    // The endpoint is the SDK's to find: AWS_ENDPOINT_URL_IOT_DATA_PLANE (the
    // account's data endpoint in AWS, the local stack's IoT data plane locally).
    let channel = IotChannel::new(aws_sdk_iotdataplane::Client::new(&started.aws));
    let store = DynamoNotifications::new(started.dynamodb(), started.config.table.clone());
    let prefix = started.own.topic_prefix.clone();
    let step = handler::SendNotification::new(Arc::new(store), Arc::new(channel), prefix, SystemClock);
    started.serve(EnvelopeBody::<audit::WorkflowAction>::default(), step).await
}
