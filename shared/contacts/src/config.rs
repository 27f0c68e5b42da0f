//! Settings the contact functions share, read once at start.

use std::time::Duration;

use kit::batch::RunnerConfig;
use kit::config::{runner_config, Env};

/// Every contact function reads the table and the metrics namespace.
pub fn contacts_table(env: &mut Env) -> String {
    env.required("CONTACTS_TABLE_NAME")
}

pub fn metrics_namespace(env: &mut Env) -> String {
    env.optional("METRICS_NAMESPACE").unwrap_or_else(|| "workflows".to_owned())
}

/// The SQS steps' settings (poll-contact, check-recording).
pub struct StepSettings {
    pub contacts_table: String,
    pub dead_letter_queue_url: String,
    pub metrics_namespace: String,
    pub runner: RunnerConfig,
}

impl StepSettings {
    pub fn read(env: &mut Env, step: &str) -> Self {
        Self {
            contacts_table: contacts_table(env),
            dead_letter_queue_url: env.required("DEAD_LETTER_QUEUE_URL"),
            metrics_namespace: metrics_namespace(env),
            runner: runner_config(env, step),
        }
    }
}

/// `RECORDING_GRACE_SECONDS` (default 900): how long after a call its recording may
/// still arrive. Connect writes recordings a few minutes after the call; tests set it low.
pub fn recording_grace(env: &mut Env) -> Duration {
    let secs: u64 = env.parse_or("RECORDING_GRACE_SECONDS", 900);
    if secs > 86_400 {
        env.reject("RECORDING_GRACE_SECONDS", "must be at most 86400 (a day)");
    }
    Duration::from_secs(secs)
}
