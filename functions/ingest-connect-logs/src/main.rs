//! ingest-connect-logs: the CloudWatch Logs subscription on Connect's flow logs;
//! caches every contact whose flow asked for a recording as INITIALISED.

mod config;
mod handler;

use contacts::dynamo::DynamoContactStore;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    kit::telemetry::init();
    let config = kit::config::or_exit(config::Config::from_env());
    kit::metrics::init(&config.metrics_namespace, handler::FUNCTION);

    let aws = kit::sdk::aws_config().await;
    let store = DynamoContactStore::new(aws_sdk_dynamodb::Client::new(&aws), config.contacts_table);
    handler::serve(store).await
}
