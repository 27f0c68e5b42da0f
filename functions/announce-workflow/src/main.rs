//! announce-workflow: consumes `announce-workflow` (fed by `ops workflow redrive`);
//! publishes an audited workflow's accepted but unannounced action again and marks
//! it announced, recording the redrive. Besides workflow-api, the only writer the
//! workflows table admits.

mod config;
mod handler;

use std::sync::Arc;

use audit::dynamo::DynamoWorkflows;
use kit::batch::{serve, BatchRunner};
use kit::decode::EnvelopeBody;
use kit::publisher::SnsPublisher;
use kit::queue::SqsQueues;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    kit::telemetry::init();
    let config = kit::config::or_exit(config::Config::from_env());
    kit::metrics::init(&config.metrics_namespace, handler::STEP);

    let aws = kit::sdk::aws_config().await;
    let store = DynamoWorkflows::new(aws_sdk_dynamodb::Client::new(&aws), config.workflows_table);
    let publisher = SnsPublisher::new(aws_sdk_sns::Client::new(&aws), config.topic_arn);
    let queues = SqsQueues::new(aws_sdk_sqs::Client::new(&aws), config.dead_letter_queue_url);
    let step = handler::AnnounceWorkflow::new(Arc::new(store), Arc::new(publisher));
    serve(BatchRunner::new(config.runner, queues), EnvelopeBody::<audit::AnnounceAgain>::default(), step).await
}
