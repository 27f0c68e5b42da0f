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
use kit::clock::SystemClock;
use kit::decode::EnvelopeBody;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let started = kit::start::step(handler::STEP, contacts::config::TABLE, config::Config::read).await;
    let store = DynamoContactStore::new(started.dynamodb(), started.config.table.clone());
    // The endpoint is the SDK's standard setting: AWS_ENDPOINT_URL_CONNECT when set.
    let connect = ConnectDirectory::new(aws_sdk_connect::Client::new(&started.aws));
    let directory = Paced::new(connect, started.own.describe_spacing);
    let step = handler::Poll::new(Arc::new(store), Arc::new(directory), SystemClock);
    started.serve(EnvelopeBody::<contacts::PollContact>::default(), step).await
}
