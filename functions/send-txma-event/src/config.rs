//! send-txma-event's own configuration (the shared step settings are the kit's
//! `StepConfig`, its table the reports table).

use kit::config::Env;
#[cfg(test)]
use kit::config::StepConfig;

pub struct Config {
    /// The activity table (the report store reads both).
    pub activity_table: String,
    /// TxMA's input queue (in AWS, in TxMA's account).
    pub txma_queue_url: String,
    /// `component_id` on the audit events (default `HOME`).
    pub component_id: String,
}

impl Config {
    pub fn read(env: &mut Env) -> Self {
        Self {
            activity_table: reports::config::activity_table(env),
            txma_queue_url: env.required("TXMA_QUEUE_URL"),
            component_id: env.optional("TXMA_COMPONENT_ID").unwrap_or_else(|| "HOME".to_owned()),
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
        for name in ["REPORTS_TABLE_NAME", "TXMA_QUEUE_URL", "DEAD_LETTER_QUEUE_URL"] {
            assert!(err.contains(name), "{err}");
        }
    }
}
