//! send-approval-emails: consumes `send-approval-emails` (fed by
//! `approval.requested`); mints each approver's one-time token, stores its hash,
//! and emails the approve/reject links through SES, once per approver. An address
//! SES refuses for good marks that approver undeliverable (the others are still
//! emailed); when SES refuses every approver the request ends UNDELIVERABLE.

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
    let step = handler::SendApprovalEmails::new(Arc::new(store), Arc::new(mailer), config.link_base_url, SystemClock);
    serve(BatchRunner::new(config.step.runner, queues), EnvelopeBody::<approvals::ApprovalRequested>::default(), step)
        .await
}
