//! send-notify-email: consumes `send-notify-email` (fed by `report.ticket-created`);
//! sends the confirmation through GOV.UK Notify once, records its id, completes
//! the report if last.

mod config;
mod handler;

use std::sync::Arc;

use kit::batch::{serve, BatchRunner};
use kit::clock::SystemClock;
use kit::decode::EnvelopeBody;
use kit::queue::SqsQueues;
use reports::clients::notify::NotifyClient;
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
    let key = CachedSecret::new(aws_sdk_secretsmanager::Client::new(&aws), config.notify_key_secret);
    let mailer = NotifyClient::new(&config.notify_base_url, key, config.http_timeout)?;
    let queues = SqsQueues::new(aws_sdk_sqs::Client::new(&aws), config.step.dead_letter_queue_url);
    let step = handler::SendEmail::new(Arc::new(store), Arc::new(mailer), config.template_id, SystemClock);
    serve(BatchRunner::new(config.step.runner, queues), EnvelopeBody::<reports::TicketCreated>::default(), step).await
}
