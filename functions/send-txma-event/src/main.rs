//! send-txma-event: consumes `send-txma-event` (fed by `report.ticket-created`);
//! sends the audit event to TxMA once, records its id, completes the report if last.

mod config;
mod handler;

use std::sync::Arc;

use kit::clock::SystemClock;
use kit::decode::EnvelopeBody;
use reports::dynamo::DynamoReportStore;
use reports::txma::SqsAuditSink;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let started = kit::start::step(handler::STEP, reports::config::TABLE, config::Config::read).await;
    let own = &started.own;
    let store = DynamoReportStore::new(started.dynamodb(), started.config.table.clone(), own.activity_table.clone());
    let sink = SqsAuditSink::new(aws_sdk_sqs::Client::new(&started.aws), own.txma_queue_url.clone());
    let step = handler::SendTxma::new(Arc::new(store), Arc::new(sink), own.component_id.clone(), SystemClock);
    started.serve(EnvelopeBody::<reports::TicketCreated>::default(), step).await
}
