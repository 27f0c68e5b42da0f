//! create-audit-record's configuration, read once at start.

use kit::batch::RunnerConfig;
use kit::config::{runner_config, ConfigError, Env};

pub struct Config {
    pub audit_table: String,
    /// The trail's KMS signing key (ARN).
    pub signing_key: String,
    pub dead_letter_queue_url: String,
    pub metrics_namespace: String,
    pub runner: RunnerConfig,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::read(Env::from_process())
    }

    pub fn read(mut env: Env) -> Result<Self, ConfigError> {
        let config = Self {
            audit_table: env.required("AUDIT_TABLE_NAME"),
            signing_key: env.required("AUDIT_SIGNING_KEY_ARN"),
            dead_letter_queue_url: env.required("DEAD_LETTER_QUEUE_URL"),
            metrics_namespace: env.optional("METRICS_NAMESPACE").unwrap_or_else(|| "workflows".to_owned()),
            runner: runner_config(&mut env, crate::handler::STEP),
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
        for name in ["AUDIT_TABLE_NAME", "AUDIT_SIGNING_KEY_ARN", "DEAD_LETTER_QUEUE_URL"] {
            assert!(err.contains(name), "{err}");
        }
    }
}
