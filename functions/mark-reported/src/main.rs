//! mark-reported: consumes `report-suspicious-activity`; marks the events and
//! creates the report (or rejects it), then announces `report.requested`.

mod config;
mod handler;

use kit::clock::SystemClock;
use kit::decode::JsonBody;
use reports::dynamo::DynamoReportStore;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let started = kit::start::step(handler::STEP, reports::config::TABLE, config::Config::read).await;
    let own = &started.own;
    let store = DynamoReportStore::new(started.dynamodb(), started.config.table.clone(), own.activity_table.clone());
    let publisher = started.publisher(own.topic_arn.clone());
    let step = handler::MarkReported::new(std::sync::Arc::new(store), publisher, SystemClock);
    started.serve(JsonBody::<reports::ReportSubmission>::default(), step).await
}
