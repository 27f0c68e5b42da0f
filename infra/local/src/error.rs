//! The error of starting a local stack: one variant per layer, each keeping its cause.

use std::net::SocketAddr;

use crate::emulator::EmulatorError;
use crate::lambda::LambdaError;
use crate::provision::ProvisionError;
use crate::sources::ScheduleError;
use crate::template::{ResolveError, TemplateError};

#[derive(Debug, thiserror::Error)]
pub enum StackError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("template: {0}")]
    Resolve(#[from] ResolveError),
    #[error(transparent)]
    Emulator(#[from] EmulatorError),
    #[error("provisioning failed: {0}")]
    Provision(#[from] ProvisionError),
    #[error(transparent)]
    Lambda(#[from] LambdaError),
    #[error("function {function}, event {event}: {source}")]
    Schedule {
        function: String,
        event: String,
        #[source]
        source: ScheduleError,
    },
    #[error("function {function}: SQS event source queue {queue_arn} is not a queue of this stack")]
    EventSourceQueue { function: String, queue_arn: String },
    #[error("IoT: {0}")]
    Iot(#[from] crate::iot::IotSetupError),
    #[error("IAM: {0}")]
    Iam(#[from] crate::iam::IamSetupError),
    #[error("cannot build an HTTP client: {0}")]
    HttpClient(#[source] reqwest::Error),
    #[error("cannot listen for the {what} on {addr}: {source}")]
    Bind {
        what: &'static str,
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}
