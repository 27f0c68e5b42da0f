//! notify-approvers: consumes `notify-approvers` (fed by `approval.decided`); tells
//! every other approver by email what was decided (who, only if the request allows).

mod config;
mod handler;

use std::sync::Arc;

use approvals::dynamo::DynamoApprovalStore;
use approvals::ses::SesMailer;
use kit::clock::SystemClock;
use kit::decode::EnvelopeBody;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let started = kit::start::step(handler::STEP, approvals::config::TABLE, config::Config::read).await;
    let store = DynamoApprovalStore::new(started.dynamodb(), started.config.table.clone());
    let mailer = SesMailer::new(aws_sdk_sesv2::Client::new(&started.aws), started.own.sender.clone());
    let step = handler::NotifyApprovers::new(Arc::new(store), Arc::new(mailer), SystemClock);
    started.serve(EnvelopeBody::<approvals::ApprovalDecided>::default(), step).await
}
