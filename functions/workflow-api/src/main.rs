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
    kit::telemetry::init();
    let config = kit::config::or_exit(config::Config::from_env());
    kit::metrics::init(&config.metrics_namespace, "workflow-api");

    let aws = kit::sdk::aws_config().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&aws);
    let app = routes::App {
        workflows: Arc::new(DynamoWorkflows::new(dynamodb.clone(), config.workflows_table)),
        publisher: SnsPublisher::new(aws_sdk_sns::Client::new(&aws), config.topic_arn),
        audit: Arc::new(DynamoAudit::new(dynamodb.clone(), config.audit_table)),
        trail_key: Arc::new(KmsTrustedKey::new(aws_sdk_kms::Client::new(&aws), config.signing_key)),
        notifications: Arc::new(DynamoNotifications::new(dynamodb, config.notifications_table)),
        clock: Arc::new(SystemClock),
    };
    lambda_http::run(routes::router(app)).await
}
