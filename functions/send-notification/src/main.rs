//! send-notification: consumes `send-notification` (fed by `workflow.action`);
//! stores one notification per recipient and publishes it to the recipient's
//! AWS IoT topic `notifications-{user_id}`, once per notification.

mod config;
mod handler;

use std::sync::Arc;

use audit::dynamo::DynamoNotifications;
use audit::iot::IotChannel;
use kit::batch::{serve, BatchRunner};
use kit::clock::SystemClock;
use kit::decode::EnvelopeBody;
use kit::queue::SqsQueues;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    kit::telemetry::init();
    let config = kit::config::or_exit(config::Config::from_env());
    kit::metrics::init(&config.metrics_namespace, handler::STEP);

    let aws = kit::sdk::aws_config().await;
    // The endpoint is the SDK's to find: AWS_ENDPOINT_URL_IOT_DATA_PLANE (the
    // account's data endpoint in AWS, the local stack's IoT data plane locally).
    let channel = IotChannel::new(aws_sdk_iotdataplane::Client::new(&aws));
    let store = DynamoNotifications::new(aws_sdk_dynamodb::Client::new(&aws), config.notifications_table);
    let queues = SqsQueues::new(aws_sdk_sqs::Client::new(&aws), config.dead_letter_queue_url);
    let step = handler::SendNotification::new(Arc::new(store), Arc::new(channel), config.topic_prefix, SystemClock);
    serve(BatchRunner::new(config.runner, queues), EnvelopeBody::<audit::WorkflowAction>::default(), step).await
}
