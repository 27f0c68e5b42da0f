//! query-api: the HTTP API over the activity log and reports (behind API Gateway's JWT authorizer).

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
    let dynamodb = aws_sdk_dynamodb::Client::new(&aws);
    let stores = routes::Stores {
        activity: activity::dynamo::DynamoActivityStore::new(dynamodb.clone(), config.table.clone()),
        reports: reports::dynamo::DynamoReportStore::new(dynamodb, config.reports_table, config.table),
    };
    lambda_http::run(routes::router(stores)).await
}
