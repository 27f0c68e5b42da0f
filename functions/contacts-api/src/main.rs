//! contacts-api: the operations team's read API over the call recording detector's
//! contacts (behind API Gateway's JWT authorizer; callers need the ops role claim).

mod auth;
mod config;
mod error;
mod routes;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    kit::telemetry::init();
    let config = kit::config::or_exit(config::Config::from_env());
    kit::metrics::init(&config.metrics_namespace, "contacts-api");

    let aws = kit::sdk::aws_config().await;
    let store = contacts::dynamo::DynamoContactStore::new(aws_sdk_dynamodb::Client::new(&aws), config.contacts_table);
    lambda_http::run(routes::router(store, config.ops)).await
}
