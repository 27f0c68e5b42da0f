//! check-recording: consumes `check-recording` (fed by the sweep); looks for each
//! completed agent call's recording in the recording bucket, and after the grace
//! period without one marks it CALL_RECORDED_FAILURE and alerts once on
//! `recording-missing`.

mod config;
mod handler;

use std::sync::Arc;

use contacts::dynamo::DynamoContactStore;
use contacts::s3::S3RecordingArchive;
use kit::clock::SystemClock;
use kit::decode::EnvelopeBody;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let started = kit::start::step(handler::STEP, contacts::config::TABLE, config::Config::read).await;
    let own = &started.own;
    let store = DynamoContactStore::new(started.dynamodb(), started.config.table.clone());
    let archive = S3RecordingArchive::new(aws_sdk_s3::Client::new(&started.aws), own.bucket.clone());
    let alerts = started.publisher(own.topic_arn.clone());
    let step =
        handler::Check::new(Arc::new(store), Arc::new(archive), Arc::new(alerts), own.check.clone(), SystemClock);
    started.serve(EnvelopeBody::<contacts::CheckRecording>::default(), step).await
}
