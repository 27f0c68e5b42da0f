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

use std::time::{Duration, Instant};

use crate::batch::{serve, BatchRunner, Step};
use crate::config::{metrics_namespace, or_exit, ConfigError, Env, StepConfig};
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
    init: InitPhases,
}

/// Where a cold start's time went, up to the runtime's first poll: logged once as
/// the `init` line (microseconds), since Lambda's INIT duration gives only the sum.
#[derive(Debug, Clone, Copy)]
struct InitPhases {
    started: Instant,
    telemetry: Duration,
    config: Duration,
    metrics: Duration,
    aws_config: Duration,
}

impl InitPhases {
    /// Logs the phases, the function's own wiring (clients, stores, the step) since
    /// the AWS configuration was loaded, and the total since `main` began.
    fn log(&self) {
        let total = self.started.elapsed();
        let timed = self.telemetry + self.config + self.metrics + self.aws_config;
        let us = |d: Duration| u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        tracing::info!(
            telemetry_us = us(self.telemetry),
            config_us = us(self.config),
            metrics_us = us(self.metrics),
            aws_config_us = us(self.aws_config),
            wiring_us = us(total.saturating_sub(timed)),
            main_us = us(total),
            "init"
        );
    }
}

/// Starts a step: installs logging, reads [`StepConfig`] and the function's own
/// settings (`own`) once — exiting with status 2 and a message naming every missing
/// or invalid variable if any is — installs the metrics recorder and loads the AWS
/// configuration.
pub async fn step<T>(step: &str, table_var: &str, own: impl FnOnce(&mut Env) -> T) -> Started<T> {
    let ((config, own), aws, init) = start_up(step, || {
        let (config, own) = or_exit(StepConfig::from_env(step, table_var, own));
        let namespace = config.metrics_namespace.clone();
        ((config, own), namespace)
    })
    .await;
    Started { config, own, aws, init }
}

/// The start-up every function shares, timed phase by phase: logging, then `read`
/// (the configuration and the metrics namespace), metrics, the AWS configuration.
async fn start_up<C>(name: &str, read: impl FnOnce() -> (C, String)) -> (C, aws_config::SdkConfig, InitPhases) {
    let started = Instant::now();
    crate::telemetry::init();
    let telemetry = started.elapsed();
    let (config, namespace) = read();
    let config_done = started.elapsed();
    crate::metrics::init(&namespace, name);
    let metrics_done = started.elapsed();
    let aws = crate::sdk::aws_config().await;
    let init = InitPhases {
        started,
        telemetry,
        config: config_done - telemetry,
        metrics: metrics_done - config_done,
        aws_config: started.elapsed() - metrics_done,
    };
    (config, aws, init)
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
        let runner = self.runner();
        self.init.log();
        serve(runner, decoder, step).await
    }
}

/// A function that is not an SQS step (an HTTP API, a scheduled job, an
/// authorizer): its configuration and the AWS configuration.
pub struct Function<T> {
    /// What the function reads (its `read` closure's result).
    pub config: T,
    /// The shared AWS configuration (region, credentials, endpoint).
    pub aws: aws_config::SdkConfig,
    init: InitPhases,
}

/// Starts a function that is not an SQS step, in the order [`step`] does: logging,
/// its configuration from `read` (exiting with status 2 and a message naming every
/// missing or invalid variable), metrics in `METRICS_NAMESPACE` with the dimension
/// `function = name`, and the AWS configuration. Call [`Function::ready`] just
/// before handing over to the runtime.
///
/// ```no_run
/// use kit::config::{ConfigError, Env};
///
/// struct Config { table: String }
///
/// fn read(mut env: Env) -> Result<Config, ConfigError> {
///     let config = Config { table: env.required("ORDERS_TABLE_NAME") };
///     env.finish()?;
///     Ok(config)
/// }
///
/// #[tokio::main]
/// async fn main() {
///     let started = kit::start::function("orders-api", read).await;
///     let _client = started.dynamodb();
///     started.ready();
///     // lambda_http::run(router).await
/// }
/// ```
pub async fn function<T>(name: &str, read: impl FnOnce(Env) -> Result<T, ConfigError>) -> Function<T> {
    let (config, aws, init) =
        start_up(name, || (or_exit(read(Env::from_process())), metrics_namespace(&mut Env::from_process()))).await;
    Function { config, aws, init }
}

impl<T> Function<T> {
    /// A DynamoDB client.
    pub fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(&self.aws)
    }

    /// An SNS client (for [`SnsPublisher`]s).
    pub fn sns(&self) -> aws_sdk_sns::Client {
        aws_sdk_sns::Client::new(&self.aws)
    }

    /// Logs where the cold start's time went (the `init` line); call it last,
    /// before the runtime's first poll.
    pub fn ready(&self) {
        self.init.log();
    }
}
