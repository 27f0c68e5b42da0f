//! send-notification's configuration, read once at start.

use kit::batch::RunnerConfig;
use kit::config::{runner_config, ConfigError, Env};

pub struct Config {
    pub notifications_table: String,
    pub dead_letter_queue_url: String,
    /// Users' topics are `{prefix}{user_id}` (default `notifications-`, the seed's).
    pub topic_prefix: String,
    pub metrics_namespace: String,
    pub runner: RunnerConfig,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::read(Env::from_process())
    }

    pub fn read(mut env: Env) -> Result<Self, ConfigError> {
        let config = Self {
            notifications_table: env.required("NOTIFICATIONS_TABLE_NAME"),
            dead_letter_queue_url: env.required("DEAD_LETTER_QUEUE_URL"),
            topic_prefix: env.optional("NOTIFICATION_TOPIC_PREFIX").unwrap_or_else(|| "notifications-".to_owned()),
            metrics_namespace: env.optional("METRICS_NAMESPACE").unwrap_or_else(|| "workflows".to_owned()),
            runner: runner_config(&mut env, crate::handler::STEP),
        };
        if config.topic_prefix.contains(['#', '+']) {
            env.reject("NOTIFICATION_TOPIC_PREFIX", "MQTT wildcards are not allowed in a topic");
        }
        env.finish()?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_map(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    #[test]
    fn names_every_missing_or_invalid_variable() {
        let err = Config::read(env(&[("NOTIFICATION_TOPIC_PREFIX", "n/#")])).err().unwrap().to_string();
        for name in ["NOTIFICATIONS_TABLE_NAME", "DEAD_LETTER_QUEUE_URL", "NOTIFICATION_TOPIC_PREFIX"] {
            assert!(err.contains(name), "{err}");
        }
    }

    #[test]
    fn the_topic_prefix_defaults_to_the_seeds() {
        let c = Config::read(env(&[("NOTIFICATIONS_TABLE_NAME", "t"), ("DEAD_LETTER_QUEUE_URL", "q")])).unwrap();
        assert_eq!(c.topic_prefix, "notifications-");
    }
}
