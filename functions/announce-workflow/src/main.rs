//! announce-workflow: consumes `announce-workflow` (fed by `ops workflow redrive`);
//! publishes an audited workflow's accepted but unannounced action again and marks
//! it announced, recording the redrive. Besides workflow-api, the only writer the
//! workflows table admits.

mod config;
mod handler;

use std::sync::Arc;

use audit::dynamo::DynamoWorkflows;
use kit::decode::EnvelopeBody;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let started = kit::start::step(handler::STEP, config::TABLE, config::Config::read).await;
    let store = DynamoWorkflows::new(started.dynamodb(), started.config.table.clone());
    let publisher = started.publisher(started.own.topic_arn.clone());
    let step = handler::AnnounceWorkflow::new(Arc::new(store), Arc::new(publisher));
    started.serve(EnvelopeBody::<audit::AnnounceAgain>::default(), step).await
}
