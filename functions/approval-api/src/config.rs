//! approval-api's configuration, read once at start.

use kit::config::{ConfigError, Env};

pub struct Config {
    pub table: String,
    pub requested_topic_arn: String,
    pub decided_topic_arn: String,
    /// After this long an unconfirmed announcement is re-published by the sweep.
    pub outbox_delay: chrono::Duration,
    pub metrics_namespace: String,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::read(Env::from_process())
    }

    pub fn read(mut env: Env) -> Result<Self, ConfigError> {
        let config = Self {
            table: env.required("APPROVALS_TABLE_NAME"),
            requested_topic_arn: env.required("APPROVAL_REQUESTED_TOPIC_ARN"),
            decided_topic_arn: env.required("APPROVAL_DECIDED_TOPIC_ARN"),
            outbox_delay: chrono::Duration::seconds(env.parse_or("OUTBOX_DELAY_SECONDS", 120i64)),
            metrics_namespace: approvals::config::metrics_namespace(&mut env),
        };
        env.finish()?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_every_missing_variable() {
        let err = Config::read(Env::from_map(Default::default())).err().unwrap().to_string();
        for name in ["APPROVALS_TABLE_NAME", "APPROVAL_REQUESTED_TOPIC_ARN", "APPROVAL_DECIDED_TOPIC_ARN"] {
            assert!(err.contains(name), "{err}");
        }
    }
}
