//! enqueue-decision: consumes `enqueue-decision` (fed by `approval.decided`); puts
//! the decision on `approval-decisions.fifo` for the on-prem processor, once
//! (deduplication id = request id, and `decision_enqueued_at` on the request).

mod config;
mod handler;

use std::sync::Arc;

use approvals::dynamo::DynamoApprovalStore;
use approvals::fifo::SqsDecisionQueue;
use kit::clock::SystemClock;
use kit::decode::EnvelopeBody;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let started = kit::start::step(handler::STEP, approvals::config::TABLE, config::Config::read).await;
    let store = DynamoApprovalStore::new(started.dynamodb(), started.config.table.clone());
    let queue = SqsDecisionQueue::new(aws_sdk_sqs::Client::new(&started.aws), started.own.decisions_queue_url.clone());
    let step = handler::EnqueueDecision::new(Arc::new(store), Arc::new(queue), SystemClock);
    started.serve(EnvelopeBody::<approvals::ApprovalDecided>::default(), step).await
}
