//! Settings every approval step reads: where the state lives, its DLQ, its runner.

use kit::batch::RunnerConfig;
use kit::config::{runner_config, Env};

pub struct StepSettings {
    pub table: String,
    pub dead_letter_queue_url: String,
    pub metrics_namespace: String,
    pub runner: RunnerConfig,
}

impl StepSettings {
    pub fn read(env: &mut Env, step: &str) -> Self {
        Self {
            table: env.required("APPROVALS_TABLE_NAME"),
            dead_letter_queue_url: env.required("DEAD_LETTER_QUEUE_URL"),
            metrics_namespace: metrics_namespace(env),
            runner: runner_config(env, step),
        }
    }
}

pub fn metrics_namespace(env: &mut Env) -> String {
    env.optional("METRICS_NAMESPACE").unwrap_or_else(|| "workflows".to_owned())
}

/// The sender address (an SES identity the template verifies).
pub fn sender(env: &mut Env) -> String {
    let sender = env.required("SENDER_EMAIL");
    if !sender.is_empty() && !crate::request::plausible_email(&sender) {
        env.reject("SENDER_EMAIL", "not an email address");
    }
    sender
}
