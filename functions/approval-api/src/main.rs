//! approval-api: the approval requests API for the on-prem service (IAM) and the
//! approvers' link pages (the token is the credential), behind API Gateway.

mod auth;
mod callers;
mod config;
mod error;
mod pages;
mod routes;

use approvals::dynamo::DynamoApprovalStore;
use kit::clock::SystemClock;
use kit::publisher::SnsPublisher;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    kit::telemetry::init();
    let config = kit::config::or_exit(config::Config::from_env());
    kit::metrics::init(&config.metrics_namespace, "approval-api");

    for (list, name) in [
        (&config.callers.service, config::SERVICE_PRINCIPALS),
        (&config.callers.processor, config::PROCESSOR_PRINCIPALS),
    ] {
        if list.is_empty() {
            tracing::warn!(variable = name, "no principal is allowed: every call to its routes is refused");
        }
    }
    let aws = kit::sdk::aws_config().await;
    let sns = aws_sdk_sns::Client::new(&aws);
    let app = routes::App {
        store: DynamoApprovalStore::new(aws_sdk_dynamodb::Client::new(&aws), config.table),
        requested: SnsPublisher::new(sns.clone(), config.requested_topic_arn),
        decided: SnsPublisher::new(sns, config.decided_topic_arn),
        clock: SystemClock,
        outbox_delay: config.outbox_delay,
        callers: config.callers,
    };
    lambda_http::run(routes::router(app)).await
}
