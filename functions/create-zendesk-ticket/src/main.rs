//! create-zendesk-ticket: consumes `create-zendesk-ticket` (fed by `report.requested`);
//! creates the report's Zendesk ticket once, records it, announces `report.ticket-created`.

mod config;
mod handler;

use std::sync::Arc;

use kit::batch::{serve, BatchRunner};
use kit::clock::SystemClock;
use kit::decode::EnvelopeBody;
use kit::publisher::SnsPublisher;
use kit::queue::SqsQueues;
use reports::clients::zendesk::ZendeskClient;
use reports::dynamo::DynamoReportStore;
use reports::secrets::CachedSecret;

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
    let token = CachedSecret::new(aws_sdk_secretsmanager::Client::new(&aws), config.zendesk_token_secret);
    let desk = ZendeskClient::new(&config.zendesk_base_url, config.zendesk_email, token, config.http_timeout)?;
    let publisher = SnsPublisher::new(aws_sdk_sns::Client::new(&aws), config.topic_arn);
    let queues = SqsQueues::new(aws_sdk_sqs::Client::new(&aws), config.step.dead_letter_queue_url);
    let step = handler::CreateTicket::new(Arc::new(store), Arc::new(desk), publisher, SystemClock);
    serve(BatchRunner::new(config.step.runner, queues), EnvelopeBody::<reports::ReportRequested>::default(), step).await
}
