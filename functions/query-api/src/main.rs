//! query-api: the HTTP API over the activity log and reports (behind API Gateway's JWT authorizer).

mod auth;
mod config;
mod error;
mod routes;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let started = kit::start::function("query-api", config::Config::read).await;
    let dynamodb = started.dynamodb();
    let config = &started.config;
    let stores = routes::Stores {
        activity: activity::dynamo::DynamoActivityStore::new(dynamodb.clone(), config.table.clone()),
        reports: reports::dynamo::DynamoReportStore::new(dynamodb, config.reports_table.clone(), config.table.clone()),
    };
    started.ready();
    lambda_http::run(routes::router(stores)).await
}
