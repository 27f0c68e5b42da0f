//! create-audit-record: consumes `create-audit-record` (fed by `workflow.action`);
//! appends each accepted action to its workflow's hash-chained audit trail, once,
//! signed with the trail's KMS key (only this function may sign with it).

mod config;
mod handler;

use std::sync::Arc;

use audit::dynamo::DynamoAudit;
use audit::kms::KmsSigner;
use kit::batch::{serve, BatchRunner};
use kit::clock::SystemClock;
use kit::decode::EnvelopeBody;
use kit::queue::SqsQueues;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    kit::telemetry::init();
    let config = kit::config::or_exit(config::Config::from_env());
    kit::metrics::init(&config.metrics_namespace, handler::STEP);

    let aws = kit::sdk::aws_config().await;
    let log = DynamoAudit::new(aws_sdk_dynamodb::Client::new(&aws), config.audit_table);
    let queues = SqsQueues::new(aws_sdk_sqs::Client::new(&aws), config.dead_letter_queue_url);
    let signer = KmsSigner::new(aws_sdk_kms::Client::new(&aws), config.signing_key);
    let step = handler::CreateAuditRecord::new(Arc::new(log), Arc::new(signer), SystemClock);
    serve(BatchRunner::new(config.runner, queues), EnvelopeBody::<audit::WorkflowAction>::default(), step).await
}
