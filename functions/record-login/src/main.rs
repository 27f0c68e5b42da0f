//! record-login: consumes `login-events`, records each login in the activity log.

mod config;
mod handler;

use activity::dynamo::DynamoActivityStore;
use kit::clock::SystemClock;
use kit::decode::JsonBody;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let started = kit::start::step(handler::STEP, config::TABLE, config::Config::read).await;
    let store = DynamoActivityStore::new(started.dynamodb(), started.config.table.clone());
    let step = handler::RecordLogin::new(store, SystemClock);
    started.serve(JsonBody::<activity::RawLoginEvent>::default(), step).await
}
