//! mark-reported: consumes `report-suspicious-activity`; marks the events and
//! creates the report (or rejects it), then announces `report.requested`.

mod config;
mod handler;

use kit::batch::{serve, BatchRunner};
use kit::clock::SystemClock;
use kit::decode::JsonBody;
use kit::publisher::SnsPublisher;
use kit::queue::SqsQueues;
use reports::dynamo::DynamoReportStore;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    kit::telemetry::init();
    let config = kit::config::or_exit(config::Config::from_env());
    kit::metrics::init(&config.step.metrics_namespace, handler::STEP);

    let aws = kit::sdk::aws_config().await;
    let store = DynamoReportStore::new(
        aws_sdk_dynamodb::Client::new(&aws),
        config.step.reports_table,
        config.step.activity_table,
    );
    let publisher = SnsPublisher::new(aws_sdk_sns::Client::new(&aws), config.topic_arn);
    let queues = SqsQueues::new(aws_sdk_sqs::Client::new(&aws), config.step.dead_letter_queue_url);
    let step = handler::MarkReported::new(std::sync::Arc::new(store), publisher, SystemClock);
    serve(BatchRunner::new(config.step.runner, queues), JsonBody::<reports::ReportSubmission>::default(), step).await
}
