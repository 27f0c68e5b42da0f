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
    let started = kit::start::function("approval-api", config::Config::read).await;
    let config = &started.config;
    for (list, name) in [
        (&config.callers.service, config::SERVICE_PRINCIPALS),
        (&config.callers.processor, config::PROCESSOR_PRINCIPALS),
    ] {
        if list.is_empty() {
            tracing::warn!(variable = name, "no principal is allowed: every call to its routes is refused");
        }
    }
    let sns = started.sns();
    let app = routes::App {
        store: DynamoApprovalStore::new(started.dynamodb(), config.table.clone()),
        requested: SnsPublisher::new(sns.clone(), config.requested_topic_arn.clone()),
        decided: SnsPublisher::new(sns, config.decided_topic_arn.clone()),
        clock: SystemClock,
        outbox_delay: config.outbox_delay,
        callers: config.callers.clone(),
    };
    started.ready();
    lambda_http::run(routes::router(app)).await
}
