//! recording-sweep: every five minutes (EventBridge `cron(0/5 * * * ? *)`, or an
//! on-demand invoke), fans contacts with work left out to check-recording and
//! poll-contact, and deletes finished queue/IVR contacts; in business hours (a
//! second schedule) it also watches that Connect's flow logs keep arriving.

mod config;
mod handler;

use contacts::dynamo::DynamoContactStore;
use contacts::sqs::SqsWorkQueue;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    kit::telemetry::init();
    let config = kit::config::or_exit(config::Config::from_env());
    kit::metrics::init(&config.metrics_namespace, handler::FUNCTION);

    let aws = kit::sdk::aws_config().await;
    let sqs = aws_sdk_sqs::Client::new(&aws);
    let parts = handler::Parts {
        store: DynamoContactStore::new(aws_sdk_dynamodb::Client::new(&aws), config.contacts_table),
        poll_queue: SqsWorkQueue::new(sqs.clone(), config.poll_queue_url),
        check_queue: SqsWorkQueue::new(sqs, config.check_queue_url),
        sweep: config.sweep,
        watch: config.watch,
    };
    handler::serve(parts).await
}
