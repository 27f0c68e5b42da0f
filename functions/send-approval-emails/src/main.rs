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
use kit::clock::SystemClock;
use kit::decode::EnvelopeBody;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let started = kit::start::step(handler::STEP, approvals::config::TABLE, config::Config::read).await;
    let store = DynamoApprovalStore::new(started.dynamodb(), started.config.table.clone());
    let mailer = SesMailer::new(aws_sdk_sesv2::Client::new(&started.aws), started.own.sender.clone());
    let links = started.own.link_base_url.clone();
    let step = handler::SendApprovalEmails::new(Arc::new(store), Arc::new(mailer), links, SystemClock);
    started.serve(EnvelopeBody::<approvals::ApprovalRequested>::default(), step).await
}
