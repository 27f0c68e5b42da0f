//! create-audit-record: consumes `create-audit-record` (fed by `workflow.action`);
//! appends each accepted action to its workflow's hash-chained audit trail, once,
//! signed with the trail's KMS key (only this function may sign with it).

mod config;
mod handler;

use std::sync::Arc;

use audit::dynamo::DynamoAudit;
use audit::kms::KmsSigner;
use kit::clock::SystemClock;
use kit::decode::EnvelopeBody;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let started = kit::start::step(handler::STEP, config::TABLE, config::Config::read).await;
    let log = DynamoAudit::new(started.dynamodb(), started.config.table.clone());
    let signer = KmsSigner::new(aws_sdk_kms::Client::new(&started.aws), started.own.signing_key.clone());
    let step = handler::CreateAuditRecord::new(Arc::new(log), Arc::new(signer), SystemClock);
    started.serve(EnvelopeBody::<audit::WorkflowAction>::default(), step).await
}
