//! send-notify-email's configuration, read once at start.

use std::time::Duration;

use kit::config::{ConfigError, Env};
use reports::config::{http_timeout, StepSettings};

pub struct Config {
    pub step: StepSettings,
    /// `https://api.notifications.service.gov.uk`.
    pub notify_base_url: String,
    /// Secrets Manager name of the API key.
    pub notify_key_secret: String,
    /// The confirmation email's template (personalisation: `ticket_id`).
    pub template_id: String,
    pub http_timeout: Duration,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::read(Env::from_process())
    }

    pub fn read(mut env: Env) -> Result<Self, ConfigError> {
        let config = Self {
            step: StepSettings::read(&mut env, crate::handler::STEP),
            notify_base_url: env.required("NOTIFY_BASE_URL"),
            notify_key_secret: env.required("NOTIFY_API_KEY_SECRET"),
            template_id: env.required("NOTIFY_TEMPLATE_ID"),
            http_timeout: http_timeout(&mut env),
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
        for name in ["REPORTS_TABLE_NAME", "NOTIFY_BASE_URL", "NOTIFY_API_KEY_SECRET", "NOTIFY_TEMPLATE_ID"] {
            assert!(err.contains(name), "{err}");
        }
    }
}
