//! announce-workflow's configuration, read once at start.

use kit::batch::RunnerConfig;
use kit::config::{runner_config, ConfigError, Env};

pub struct Config {
    pub workflows_table: String,
    pub topic_arn: String,
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
            workflows_table: env.required("WORKFLOWS_TABLE_NAME"),
            topic_arn: env.required("WORKFLOW_ACTIONS_TOPIC_ARN"),
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
        for name in ["WORKFLOWS_TABLE_NAME", "WORKFLOW_ACTIONS_TOPIC_ARN", "DEAD_LETTER_QUEUE_URL"] {
            assert!(err.contains(name), "{err}");
        }
    }
}
