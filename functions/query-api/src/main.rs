//! query-api: the HTTP API over the activity log (behind API Gateway's JWT authorizer).

mod auth;
mod config;
mod error;
mod routes;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    kit::telemetry::init();
    let config = kit::config::or_exit(config::Config::from_env());
    kit::metrics::init(&config.metrics_namespace, "query-api");

    let aws = kit::sdk::aws_config().await;
    let store = activity::dynamo::DynamoActivityStore::new(aws_sdk_dynamodb::Client::new(&aws), config.table);
    lambda_http::run(routes::router(store)).await
}
