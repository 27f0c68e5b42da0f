//! approval-sweeper (every minute): re-publishes `approval.requested` /
//! `approval.decided` for requests whose step has not confirmed them by their due
//! time, so a crash between the API's write and its publish loses nothing.

mod config;
mod topics;

use approvals::dynamo::DynamoApprovalStore;
use approvals::usecases::sweep;
use kit::publisher::SnsPublisher;
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::{json, Value};
use tracing::info;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let started = kit::start::function("approval-sweeper", config::Config::read).await;
    let config = &started.config;
    let sns = started.sns();
    let store = DynamoApprovalStore::new(started.dynamodb(), config.table.clone());
    let publisher = topics::ByType {
        requested: SnsPublisher::new(sns.clone(), config.requested_topic_arn.clone()),
        decided: SnsPublisher::new(sns, config.decided_topic_arn.clone()),
    };
    let (store, publisher) = (&store, &publisher);
    let (retry_after, limit) = (config.retry_after, config.limit);
    started.ready();
    lambda_runtime::run(service_fn(move |_event: LambdaEvent<Value>| async move {
        let report = sweep(store, publisher, chrono::Utc::now(), retry_after, limit).await?;
        if report != Default::default() {
            info!(republished = report.republished, cleared = report.cleared, failed = report.failed, "sweep done");
        }
        metrics_flush();
        Ok::<Value, lambda_runtime::Error>(json!({
            "republished": report.republished,
            "cleared": report.cleared,
            "failed": report.failed,
        }))
    }))
    .await
}

fn metrics_flush() {
    kit::metrics::flush();
}
