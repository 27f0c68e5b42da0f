//! mark-reported's configuration, read once at start.

use kit::config::{ConfigError, Env};
use reports::config::StepSettings;

pub struct Config {
    pub step: StepSettings,
    /// Where `report.requested` goes.
    pub topic_arn: String,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::read(Env::from_process())
    }

    pub fn read(mut env: Env) -> Result<Self, ConfigError> {
        let config = Self {
            step: StepSettings::read(&mut env, crate::handler::STEP),
            topic_arn: env.required("REPORT_REQUESTED_TOPIC_ARN"),
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
        for name in ["ACTIVITY_TABLE_NAME", "REPORTS_TABLE_NAME", "DEAD_LETTER_QUEUE_URL", "REPORT_REQUESTED_TOPIC_ARN"]
        {
            assert!(err.contains(name), "{err}");
        }
    }
}
