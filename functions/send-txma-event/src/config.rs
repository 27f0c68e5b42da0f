//! send-txma-event's configuration, read once at start.

use kit::config::{ConfigError, Env};
use reports::config::StepSettings;

pub struct Config {
    pub step: StepSettings,
    /// TxMA's input queue (in AWS, in TxMA's account).
    pub txma_queue_url: String,
    /// `component_id` on the audit events (default `HOME`).
    pub component_id: String,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::read(Env::from_process())
    }

    pub fn read(mut env: Env) -> Result<Self, ConfigError> {
        let config = Self {
            step: StepSettings::read(&mut env, crate::handler::STEP),
            txma_queue_url: env.required("TXMA_QUEUE_URL"),
            component_id: env.optional("TXMA_COMPONENT_ID").unwrap_or_else(|| "HOME".to_owned()),
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
        for name in ["REPORTS_TABLE_NAME", "TXMA_QUEUE_URL", "DEAD_LETTER_QUEUE_URL"] {
            assert!(err.contains(name), "{err}");
        }
    }
}
