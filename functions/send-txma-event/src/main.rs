//! send-txma-event: consumes `send-txma-event` (fed by `report.ticket-created`);
//! sends the audit event to TxMA once, records its id, completes the report if last.

mod config;
mod handler;

use std::sync::Arc;

use kit::batch::{serve, BatchRunner};
use kit::clock::SystemClock;
use kit::decode::EnvelopeBody;
use kit::queue::SqsQueues;
use reports::dynamo::DynamoReportStore;
use reports::txma::SqsAuditSink;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    kit::telemetry::init();
    let config = kit::config::or_exit(config::Config::from_env());
    kit::metrics::init(&config.step.metrics_namespace, handler::STEP);

    let aws = kit::sdk::aws_config().await;
    let store = DynamoReportStore::new(
        aws_sdk_dynamodb::Client::new(&aws),
        config.step.reports_table,
        config.step.activity_table,
    );
    let sqs = aws_sdk_sqs::Client::new(&aws);
    let sink = SqsAuditSink::new(sqs.clone(), config.txma_queue_url);
    let queues = SqsQueues::new(sqs, config.step.dead_letter_queue_url);
    let step = handler::SendTxma::new(Arc::new(store), Arc::new(sink), config.component_id, SystemClock);
    serve(BatchRunner::new(config.step.runner, queues), EnvelopeBody::<reports::TicketCreated>::default(), step).await
}
