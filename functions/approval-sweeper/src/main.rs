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
    kit::telemetry::init();
    let config = kit::config::or_exit(config::Config::from_env());
    kit::metrics::init(&config.metrics_namespace, "approval-sweeper");

    let aws = kit::sdk::aws_config().await;
    let sns = aws_sdk_sns::Client::new(&aws);
    let store = DynamoApprovalStore::new(aws_sdk_dynamodb::Client::new(&aws), config.table);
    let publisher = topics::ByType {
        requested: SnsPublisher::new(sns.clone(), config.requested_topic_arn),
        decided: SnsPublisher::new(sns, config.decided_topic_arn),
    };
    let (store, publisher) = (&store, &publisher);
    let (retry_after, limit) = (config.retry_after, config.limit);
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
