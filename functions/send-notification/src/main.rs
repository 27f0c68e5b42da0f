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
    let mut iot = aws_sdk_iotdataplane::config::Builder::from(&aws);
    if let Some(endpoint) = &config.iot_endpoint {
        iot = iot.endpoint_url(endpoint);
    }
    let channel = IotChannel::new(aws_sdk_iotdataplane::Client::from_conf(iot.build()));
    let store = DynamoNotifications::new(aws_sdk_dynamodb::Client::new(&aws), config.notifications_table);
    let queues = SqsQueues::new(aws_sdk_sqs::Client::new(&aws), config.dead_letter_queue_url);
    let step = handler::SendNotification::new(Arc::new(store), Arc::new(channel), config.topic_prefix, SystemClock);
    serve(BatchRunner::new(config.runner, queues), EnvelopeBody::<audit::WorkflowAction>::default(), step).await
}
