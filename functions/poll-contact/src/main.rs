//! poll-contact: consumes `poll-contact` (fed by the sweep); asks Connect's
//! DescribeContact where each contact is and moves its state forward. Connect's
//! quota is low: the event source's maximum concurrency bounds the instances, and
//! each spaces its calls to its share of `CONNECT_DESCRIBE_RPS`; a throttled call
//! is retried after the kit's backoff.

mod config;
mod handler;

use std::sync::Arc;

use contacts::connect::ConnectDirectory;
use contacts::dynamo::DynamoContactStore;
use contacts::pace::Paced;
use kit::batch::{serve, BatchRunner};
use kit::clock::SystemClock;
use kit::decode::EnvelopeBody;
use kit::queue::SqsQueues;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    kit::telemetry::init();
    let config = kit::config::or_exit(config::Config::from_env());
    kit::metrics::init(&config.step.metrics_namespace, handler::STEP);

    // The endpoint is the SDK's standard setting: AWS_ENDPOINT_URL_CONNECT when set.
    let aws = kit::sdk::aws_config().await;
    let store = DynamoContactStore::new(aws_sdk_dynamodb::Client::new(&aws), config.step.contacts_table);
    let directory = Paced::new(ConnectDirectory::new(aws_sdk_connect::Client::new(&aws)), config.describe_spacing);
    let queues = SqsQueues::new(aws_sdk_sqs::Client::new(&aws), config.step.dead_letter_queue_url);
    let step = handler::Poll::new(Arc::new(store), Arc::new(directory), SystemClock);
    serve(BatchRunner::new(config.step.runner, queues), EnvelopeBody::<contacts::PollContact>::default(), step).await
}
