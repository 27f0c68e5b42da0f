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
    let started = kit::start::function(handler::FUNCTION, config::Config::read).await;
    let config = &started.config;
    let sqs = aws_sdk_sqs::Client::new(&started.aws);
    let parts = handler::Parts {
        store: DynamoContactStore::new(started.dynamodb(), config.contacts_table.clone()),
        poll_queue: SqsWorkQueue::new(sqs.clone(), config.poll_queue_url.clone()),
        check_queue: SqsWorkQueue::new(sqs, config.check_queue_url.clone()),
        sweep: config.sweep.clone(),
        watch: config.watch,
    };
    started.ready();
    handler::serve(parts).await
}
