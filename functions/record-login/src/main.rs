//! record-login: consumes `login-events`, records each login in the activity log.

mod config;
mod handler;

use kit::batch::{serve, BatchRunner};
use kit::clock::SystemClock;
use kit::decode::JsonBody;
use kit::queue::SqsQueues;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    kit::telemetry::init();
    let config = kit::config::or_exit(config::Config::from_env());
    kit::metrics::init(&config.metrics_namespace, handler::STEP);

    let aws = kit::sdk::aws_config().await;
    let store = activity::dynamo::DynamoActivityStore::new(aws_sdk_dynamodb::Client::new(&aws), config.table);
    let queues = SqsQueues::new(aws_sdk_sqs::Client::new(&aws), config.dead_letter_queue_url);
    let runner = BatchRunner::new(config.runner, queues);
    serve(runner, JsonBody::<activity::RawLoginEvent>::default(), handler::RecordLogin::new(store, SystemClock)).await
}
