//! notify-approvers: consumes `notify-approvers` (fed by `approval.decided`); tells
//! every other approver by email what was decided (who, only if the request allows).

mod config;
mod handler;

use std::sync::Arc;

use approvals::dynamo::DynamoApprovalStore;
use approvals::ses::SesMailer;
use kit::batch::{serve, BatchRunner};
use kit::clock::SystemClock;
use kit::decode::EnvelopeBody;
use kit::queue::SqsQueues;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    kit::telemetry::init();
    let config = kit::config::or_exit(config::Config::from_env());
    kit::metrics::init(&config.step.metrics_namespace, handler::STEP);

    let aws = kit::sdk::aws_config().await;
    let store = DynamoApprovalStore::new(aws_sdk_dynamodb::Client::new(&aws), config.step.table);
    let mailer = SesMailer::new(aws_sdk_sesv2::Client::new(&aws), config.sender);
    let queues = SqsQueues::new(aws_sdk_sqs::Client::new(&aws), config.step.dead_letter_queue_url);
    let step = handler::NotifyApprovers::new(Arc::new(store), Arc::new(mailer), SystemClock);
    serve(BatchRunner::new(config.step.runner, queues), EnvelopeBody::<approvals::ApprovalDecided>::default(), step)
        .await
}
