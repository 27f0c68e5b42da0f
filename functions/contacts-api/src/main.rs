//! contacts-api: the operations team's read API over the call recording detector's
//! contacts (behind API Gateway's JWT authorizer; callers need the ops role claim).

mod auth;
mod config;
mod error;
mod routes;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let started = kit::start::function("contacts-api", config::Config::read).await;
    let store = contacts::dynamo::DynamoContactStore::new(started.dynamodb(), started.config.contacts_table.clone());
    started.ready();
    lambda_http::run(routes::router(store, started.config.ops.clone())).await
}
