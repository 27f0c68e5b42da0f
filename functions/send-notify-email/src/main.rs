//! send-notify-email: consumes `send-notify-email` (fed by `report.ticket-created`);
//! sends the confirmation through GOV.UK Notify once, records its id, completes
//! the report if last.

mod config;
mod handler;

use std::sync::Arc;

use kit::clock::SystemClock;
use kit::decode::EnvelopeBody;
use reports::clients::notify::NotifyClient;
use reports::dynamo::DynamoReportStore;
use reports::secrets::CachedSecret;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let started = kit::start::step(handler::STEP, reports::config::TABLE, config::Config::read).await;
    let own = &started.own;
    let store = DynamoReportStore::new(started.dynamodb(), started.config.table.clone(), own.activity_table.clone());
    let key = CachedSecret::new(aws_sdk_secretsmanager::Client::new(&started.aws), own.notify_key_secret.clone());
    let mailer = NotifyClient::new(&own.notify_base_url, key, own.http_timeout)?;
    let step = handler::SendEmail::new(Arc::new(store), Arc::new(mailer), own.template_id.clone(), SystemClock);
    started.serve(EnvelopeBody::<reports::TicketCreated>::default(), step).await
}
