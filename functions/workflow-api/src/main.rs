//! workflow-api: workflows and their actions, the audit trail's searches, and each
//! user's notifications (behind API Gateway's JWT authorizer).

mod auth;
mod config;
mod error;
mod routes;

use std::sync::Arc;

use audit::dynamo::{DynamoAudit, DynamoNotifications, DynamoWorkflows};
use audit::kms::KmsTrustedKey;
use kit::clock::SystemClock;
use kit::publisher::SnsPublisher;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let started = kit::start::function("workflow-api", config::Config::read).await;
    let config = &started.config;
    let dynamodb = started.dynamodb();
    let app = routes::App {
        workflows: Arc::new(DynamoWorkflows::new(dynamodb.clone(), config.workflows_table.clone())),
        publisher: SnsPublisher::new(started.sns(), config.topic_arn.clone()),
        audit: Arc::new(DynamoAudit::new(dynamodb.clone(), config.audit_table.clone())),
        trail_key: Arc::new(KmsTrustedKey::new(aws_sdk_kms::Client::new(&started.aws), config.signing_key.clone())),
        notifications: Arc::new(DynamoNotifications::new(dynamodb, config.notifications_table.clone())),
        clock: Arc::new(SystemClock),
    };
    started.ready();
    lambda_http::run(routes::router(app)).await
}
