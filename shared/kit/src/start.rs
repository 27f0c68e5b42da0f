//! A step's `main` in a few lines: telemetry, configuration (failing fast), metrics,
//! the AWS clients and the batch runner, in the order every step needs them.
//!
//! ```no_run
//! use kit::decode::JsonBody;
//! use kit::batch::{FnStep, Outcome, RecordContext};
//!
//! #[derive(serde::Deserialize)]
//! struct Order { id: String }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), lambda_runtime::Error> {
//!     // Exits with status 2, naming every missing variable, if the configuration is incomplete.
//!     let started = kit::start::step("record-order", "ORDERS_TABLE_NAME", |env| env.required("TOPIC_ARN")).await;
//!     let _publisher = started.publisher(started.own.clone());
//!     let step = FnStep(|_ctx: RecordContext, _order: Order| async { Ok::<_, kit::store::StoreError>(Outcome::Done) });
//!     started.serve(JsonBody::<Order>::default(), step).await
//! }
//! ```

use crate::batch::{serve, BatchRunner, Step};
use crate::config::{or_exit, Env, StepConfig};
use crate::decode::Decode;
use crate::publisher::SnsPublisher;
use crate::queue::SqsQueues;

/// A started step: its configuration, the function's own settings and the AWS
/// configuration to build clients from.
pub struct Started<T> {
    /// What every step reads.
    pub config: StepConfig,
    /// What this function reads besides (the `own` closure's result).
    pub own: T,
    /// The shared AWS configuration (region, credentials, endpoint).
    pub aws: aws_config::SdkConfig,
}

/// Starts a step: installs logging, reads [`StepConfig`] and the function's own
/// settings (`own`) once — exiting with status 2 and a message naming every missing
/// or invalid variable if any is — installs the metrics recorder and loads the AWS
/// configuration.
pub async fn step<T>(step: &str, table_var: &str, own: impl FnOnce(&mut Env) -> T) -> Started<T> {
    crate::telemetry::init();
    let (config, own) = or_exit(StepConfig::from_env(step, table_var, own));
    crate::metrics::init(&config.metrics_namespace, step);
    let aws = crate::sdk::aws_config().await;
    Started { config, own, aws }
}

impl<T> Started<T> {
    /// A DynamoDB client.
    pub fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(&self.aws)
    }

    /// A publisher to `topic_arn`.
    pub fn publisher(&self, topic_arn: impl Into<String>) -> SnsPublisher {
        SnsPublisher::new(aws_sdk_sns::Client::new(&self.aws), topic_arn)
    }

    /// The batch runner, dead-lettering to the step's DLQ.
    pub fn runner(&self) -> BatchRunner<SqsQueues> {
        let queues = SqsQueues::new(aws_sdk_sqs::Client::new(&self.aws), self.config.dead_letter_queue_url.clone());
        BatchRunner::new(self.config.runner.clone(), queues)
    }

    /// Serves `step` on the Lambda runtime until it stops ([`crate::batch::serve`]).
    pub async fn serve<D, S>(&self, decoder: D, step: S) -> Result<(), lambda_runtime::Error>
    where
        D: Decode,
        S: Step<D::Output>,
    {
        serve(self.runner(), decoder, step).await
    }
}
