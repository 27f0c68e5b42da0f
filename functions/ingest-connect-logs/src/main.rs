//! ingest-connect-logs: the CloudWatch Logs subscription on Connect's flow logs;
//! caches every contact whose flow asked for a recording as INITIALISED.

mod config;
mod handler;

use contacts::dynamo::DynamoContactStore;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let started = kit::start::function(handler::FUNCTION, config::Config::read).await;
    let store = DynamoContactStore::new(started.dynamodb(), started.config.contacts_table.clone());
    started.ready();
    handler::serve(store).await
}
