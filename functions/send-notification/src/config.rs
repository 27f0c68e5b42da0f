//! send-notification's own configuration (the shared step settings are the kit's
//! `StepConfig`, its table the notifications table).

use kit::config::Env;
#[cfg(test)]
use kit::config::StepConfig;

/// The variable naming the notifications table.
pub const TABLE: &str = "NOTIFICATIONS_TABLE_NAME";

pub struct Config {
    /// Users' topics are `{prefix}{user_id}` (default `notifications-`, the seed's).
    pub topic_prefix: String,
}

impl Config {
    pub fn read(env: &mut Env) -> Self {
        let topic_prefix = env.optional("NOTIFICATION_TOPIC_PREFIX").unwrap_or_else(|| "notifications-".to_owned());
        if topic_prefix.contains(['#', '+']) {
            env.reject("NOTIFICATION_TOPIC_PREFIX", "MQTT wildcards are not allowed in a topic");
        }
        Self { topic_prefix }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shared settings and this function's, as the main reads them.
    fn load(env: Env) -> Result<Config, kit::config::ConfigError> {
        StepConfig::load(env, crate::handler::STEP, TABLE, Config::read).map(|(_, own)| own)
    }

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_map(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    #[test]
    fn names_every_missing_or_invalid_variable() {
        let err = load(env(&[("NOTIFICATION_TOPIC_PREFIX", "n/#")])).err().unwrap().to_string();
        for name in ["NOTIFICATIONS_TABLE_NAME", "DEAD_LETTER_QUEUE_URL", "NOTIFICATION_TOPIC_PREFIX"] {
            assert!(err.contains(name), "{err}");
        }
    }

    #[test]
    fn the_topic_prefix_defaults_to_the_seeds() {
        let c = load(env(&[("NOTIFICATIONS_TABLE_NAME", "t"), ("DEAD_LETTER_QUEUE_URL", "q")])).ok().unwrap();
        assert_eq!(c.topic_prefix, "notifications-");
    }
}
