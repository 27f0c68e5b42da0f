//! create-zendesk-ticket's configuration, read once at start.

use std::time::Duration;

use kit::config::{ConfigError, Env};
use reports::config::{http_timeout, StepSettings};

pub struct Config {
    pub step: StepSettings,
    /// Where `report.ticket-created` goes.
    pub topic_arn: String,
    /// `https://{subdomain}.zendesk.com`.
    pub zendesk_base_url: String,
    /// The agent the API token belongs to.
    pub zendesk_email: String,
    /// Secrets Manager name of the API token.
    pub zendesk_token_secret: String,
    pub http_timeout: Duration,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::read(Env::from_process())
    }

    pub fn read(mut env: Env) -> Result<Self, ConfigError> {
        let config = Self {
            step: StepSettings::read(&mut env, crate::handler::STEP),
            topic_arn: env.required("TICKET_CREATED_TOPIC_ARN"),
            zendesk_base_url: env.required("ZENDESK_BASE_URL"),
            zendesk_email: env.required("ZENDESK_EMAIL"),
            zendesk_token_secret: env.required("ZENDESK_API_TOKEN_SECRET"),
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
        for name in [
            "REPORTS_TABLE_NAME",
            "TICKET_CREATED_TOPIC_ARN",
            "ZENDESK_BASE_URL",
            "ZENDESK_EMAIL",
            "ZENDESK_API_TOKEN_SECRET",
        ] {
            assert!(err.contains(name), "{err}");
        }
    }
}
