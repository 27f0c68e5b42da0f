//! Executors: what "run the approved action" means on this site. Pluggable: the
//! processor only sees [`Executor`].

mod command;
mod log;
mod webhook;

pub use command::CommandExecutor;
pub use log::LogExecutor;
pub use webhook::WebhookExecutor;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use crate::api::Action;

/// The executor's report: success or not, and what it said (kept to 4 KB).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Execution {
    pub succeeded: bool,
    pub output: String,
}

/// Output kept, at most (the API stores 4 KB of it).
pub const MAX_OUTPUT: usize = 4096;

impl Execution {
    pub fn new(succeeded: bool, output: impl Into<String>) -> Self {
        let mut output: String = output.into();
        if output.len() > MAX_OUTPUT {
            let mut end = MAX_OUTPUT;
            while !output.is_char_boundary(end) {
                end -= 1;
            }
            output.truncate(end);
        }
        Self { succeeded, output }
    }
}

#[async_trait]
pub trait Executor: Send + Sync + 'static {
    /// Runs the action. `stop` fires when the processor must stop now (its shutdown
    /// grace ran out): the executor abandons the action and says so.
    async fn execute(&self, action: &Action, stop: CancellationToken) -> Execution;
}

/// The executor chosen by the configuration.
pub fn from_config(config: &crate::config::Config) -> Result<Box<dyn Executor>, String> {
    use crate::config::ExecutorKind;
    Ok(match &config.executor {
        ExecutorKind::Log => Box::new(LogExecutor),
        ExecutorKind::Command { program, args } => {
            Box::new(CommandExecutor::new(program.clone(), args.clone(), config.executor_timeout))
        }
        ExecutorKind::Webhook { url } => Box::new(WebhookExecutor::new(url.clone(), config.executor_timeout)?),
    })
}

#[async_trait]
impl Executor for Box<dyn Executor> {
    async fn execute(&self, action: &Action, stop: CancellationToken) -> Execution {
        (**self).execute(action, stop).await
    }
}
