//! approval-sweeper's configuration, read once at start.

use kit::config::{ConfigError, Env};

pub struct Config {
    pub table: String,
    pub requested_topic_arn: String,
    pub decided_topic_arn: String,
    /// After a re-publish, the next one is due this much later (unless confirmed).
    pub retry_after: chrono::Duration,
    /// Announcements re-published per run, at most.
    pub limit: usize,
}

impl Config {
    pub fn read(mut env: Env) -> Result<Self, ConfigError> {
        // The re-publish delay is a retry wait: tests compress it with the rest.
        let time_scale = kit::retry::TimeScale::from_env(&mut env);
        let config = Self {
            table: env.required("APPROVALS_TABLE_NAME"),
            requested_topic_arn: env.required("APPROVAL_REQUESTED_TOPIC_ARN"),
            decided_topic_arn: env.required("APPROVAL_DECIDED_TOPIC_ARN"),
            retry_after: time_scale
                .compress_chrono(chrono::Duration::seconds(env.parse_or("SWEEP_RETRY_SECONDS", 300i64))),
            limit: env.parse_or("SWEEP_LIMIT", 100usize),
        };
        if config.limit == 0 {
            env.reject("SWEEP_LIMIT", "must be at least 1");
        }
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
