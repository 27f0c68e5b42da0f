//! create-zendesk-ticket's own configuration (the shared step settings are the
//! kit's `StepConfig`, its table the reports table).

use std::time::Duration;

use kit::config::Env;
#[cfg(test)]
use kit::config::StepConfig;
use reports::config::{activity_table, http_timeout};

pub struct Config {
    /// The activity table, whose events get the ticket id.
    pub activity_table: String,
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
    pub fn read(env: &mut Env) -> Self {
        Self {
            activity_table: activity_table(env),
            topic_arn: env.required("TICKET_CREATED_TOPIC_ARN"),
            zendesk_base_url: env.required("ZENDESK_BASE_URL"),
            zendesk_email: env.required("ZENDESK_EMAIL"),
            zendesk_token_secret: env.required("ZENDESK_API_TOKEN_SECRET"),
            http_timeout: http_timeout(env),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shared settings and this function's, as the main reads them.
    fn load(env: Env) -> Result<Config, kit::config::ConfigError> {
        StepConfig::load(env, crate::handler::STEP, reports::config::TABLE, Config::read).map(|(_, own)| own)
    }

    #[test]
    fn names_every_missing_variable() {
        let err = load(Env::from_map(Default::default())).err().unwrap().to_string();
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
