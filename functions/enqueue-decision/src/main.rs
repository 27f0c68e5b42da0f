//! enqueue-decision: consumes `enqueue-decision` (fed by `approval.decided`); puts
//! the decision on `approval-decisions.fifo` for the on-prem processor, once
//! (deduplication id = request id, and `decision_enqueued_at` on the request).

mod config;
mod handler;

use std::sync::Arc;

use approvals::dynamo::DynamoApprovalStore;
use approvals::fifo::SqsDecisionQueue;
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
    let sqs = aws_sdk_sqs::Client::new(&aws);
    let store = DynamoApprovalStore::new(aws_sdk_dynamodb::Client::new(&aws), config.step.table);
    let queue = SqsDecisionQueue::new(sqs.clone(), config.decisions_queue_url);
    let queues = SqsQueues::new(sqs, config.step.dead_letter_queue_url);
    let step = handler::EnqueueDecision::new(Arc::new(store), Arc::new(queue), SystemClock);
    serve(BatchRunner::new(config.step.runner, queues), EnvelopeBody::<approvals::ApprovalDecided>::default(), step)
        .await
}
