//! announce-workflow's own configuration (the shared step settings are the kit's
//! `StepConfig`, its table the workflows table).

use kit::config::Env;
#[cfg(test)]
use kit::config::StepConfig;

/// The variable naming the workflows table.
pub const TABLE: &str = "WORKFLOWS_TABLE_NAME";

pub struct Config {
    /// Where the announced action goes again.
    pub topic_arn: String,
}

impl Config {
    pub fn read(env: &mut Env) -> Self {
        Self { topic_arn: env.required("WORKFLOW_ACTIONS_TOPIC_ARN") }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shared settings and this function's, as the main reads them.
    fn load(env: Env) -> Result<Config, kit::config::ConfigError> {
        StepConfig::load(env, crate::handler::STEP, TABLE, Config::read).map(|(_, own)| own)
    }

    #[test]
    fn names_every_missing_variable() {
        let err = load(Env::from_map(Default::default())).err().unwrap().to_string();
        for name in ["WORKFLOWS_TABLE_NAME", "WORKFLOW_ACTIONS_TOPIC_ARN", "DEAD_LETTER_QUEUE_URL"] {
            assert!(err.contains(name), "{err}");
        }
    }
}
