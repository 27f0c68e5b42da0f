//! create-zendesk-ticket: consumes `create-zendesk-ticket` (fed by `report.requested`);
//! creates the report's Zendesk ticket once, records it, announces `report.ticket-created`.

mod config;
mod handler;

use std::sync::Arc;

use kit::clock::SystemClock;
use kit::decode::EnvelopeBody;
use reports::clients::zendesk::ZendeskClient;
use reports::dynamo::DynamoReportStore;
use reports::secrets::CachedSecret;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let started = kit::start::step(handler::STEP, reports::config::TABLE, config::Config::read).await;
    let own = &started.own;
    let store = DynamoReportStore::new(started.dynamodb(), started.config.table.clone(), own.activity_table.clone());
    let secrets = aws_sdk_secretsmanager::Client::new(&started.aws);
    let token = CachedSecret::new(secrets, own.zendesk_token_secret.clone());
    let desk = ZendeskClient::new(&own.zendesk_base_url, own.zendesk_email.clone(), token, own.http_timeout)?;
    let publisher = started.publisher(own.topic_arn.clone());
    let step = handler::CreateTicket::new(Arc::new(store), Arc::new(desk), publisher, SystemClock);
    started.serve(EnvelopeBody::<reports::ReportRequested>::default(), step).await
}
