//! The dry-run executor: logs what it would run (never the parameters, which may
//! hold anything) and reports success.

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;
use tracing::info;

use super::{Execution, Executor};
use crate::api::Action;

pub struct LogExecutor;

#[async_trait]
impl Executor for LogExecutor {
    async fn execute(&self, action: &Action, _stop: CancellationToken) -> Execution {
        info!(request_id = %action.request_id, action = %action.action, "log executor: action logged, nothing run");
        Execution::new(true, format!("logged {} for {}", action.action, action.issue_id))
    }
}
