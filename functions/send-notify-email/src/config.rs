//! send-notify-email's own configuration (the shared step settings are the kit's
//! `StepConfig`, its table the reports table).

use std::time::Duration;

use kit::config::Env;
#[cfg(test)]
use kit::config::StepConfig;
use reports::config::{activity_table, http_timeout};

pub struct Config {
    /// The activity table (the report store reads both).
    pub activity_table: String,
    /// `https://api.notifications.service.gov.uk`.
    pub notify_base_url: String,
    /// Secrets Manager name of the API key.
    pub notify_key_secret: String,
    /// The confirmation email's template (personalisation: `ticket_id`).
    pub template_id: String,
    pub http_timeout: Duration,
}

impl Config {
    pub fn read(env: &mut Env) -> Self {
        Self {
            activity_table: activity_table(env),
            notify_base_url: env.required("NOTIFY_BASE_URL"),
            notify_key_secret: env.required("NOTIFY_API_KEY_SECRET"),
            template_id: env.required("NOTIFY_TEMPLATE_ID"),
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
        for name in ["REPORTS_TABLE_NAME", "NOTIFY_BASE_URL", "NOTIFY_API_KEY_SECRET", "NOTIFY_TEMPLATE_ID"] {
            assert!(err.contains(name), "{err}");
        }
    }
}
