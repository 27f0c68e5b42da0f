//! Settings every report step reads: where the state lives, its DLQ, its runner.

use std::time::Duration;

use kit::batch::RunnerConfig;
use kit::config::{runner_config, Env};

pub struct StepSettings {
    pub activity_table: String,
    pub reports_table: String,
    pub dead_letter_queue_url: String,
    pub metrics_namespace: String,
    pub runner: RunnerConfig,
}

impl StepSettings {
    pub fn read(env: &mut Env, step: &str) -> Self {
        Self {
            activity_table: env.required("ACTIVITY_TABLE_NAME"),
            reports_table: env.required("REPORTS_TABLE_NAME"),
            dead_letter_queue_url: env.required("DEAD_LETTER_QUEUE_URL"),
            metrics_namespace: env.optional("METRICS_NAMESPACE").unwrap_or_else(|| "workflows".to_owned()),
            runner: runner_config(env, step),
        }
    }
}

/// Third-party calls give up after this long (`HTTP_TIMEOUT_MS`, default 5 s): well
/// inside the function timeout, so the runner always gets to settle the record.
pub fn http_timeout(env: &mut Env) -> Duration {
    Duration::from_millis(env.parse_or("HTTP_TIMEOUT_MS", 5000u64))
}
