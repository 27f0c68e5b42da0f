//! check-recording: consumes `check-recording` (fed by the sweep); looks for each
//! completed agent call's recording in the recording bucket, and after the grace
//! period without one marks it CALL_RECORDED_FAILURE and alerts once on
//! `recording-missing`.

mod config;
mod handler;

use std::sync::Arc;

use contacts::dynamo::DynamoContactStore;
use contacts::s3::S3RecordingArchive;
use kit::batch::{serve, BatchRunner};
use kit::clock::SystemClock;
use kit::decode::EnvelopeBody;
use kit::publisher::SnsPublisher;
use kit::queue::SqsQueues;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    kit::telemetry::init();
    let config = kit::config::or_exit(config::Config::from_env());
    kit::metrics::init(&config.step.metrics_namespace, handler::STEP);

    let aws = kit::sdk::aws_config().await;
    let store = DynamoContactStore::new(aws_sdk_dynamodb::Client::new(&aws), config.step.contacts_table);
    let archive = S3RecordingArchive::new(aws_sdk_s3::Client::new(&aws), config.bucket);
    let alerts = SnsPublisher::new(aws_sdk_sns::Client::new(&aws), config.topic_arn);
    let queues = SqsQueues::new(aws_sdk_sqs::Client::new(&aws), config.step.dead_letter_queue_url);
    let step = handler::Check::new(Arc::new(store), Arc::new(archive), Arc::new(alerts), config.check, SystemClock);
    serve(BatchRunner::new(config.step.runner, queues), EnvelopeBody::<contacts::CheckRecording>::default(), step).await
}
