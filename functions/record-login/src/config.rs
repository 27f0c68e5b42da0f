//! record-login's configuration: only what every step reads (the kit's
//! `StepConfig`), its table being the activity table.

#[cfg(test)]
use kit::config::{Env, StepConfig};

/// The variable naming the activity table.
pub const TABLE: &str = "ACTIVITY_TABLE_NAME";

/// record-login reads nothing of its own.
pub struct Config;

impl Config {
    pub fn read(_env: &mut kit::config::Env) -> Self {
        Config
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
    fn names_the_missing_variables() {
        let err = load(Env::from_map(Default::default())).err().unwrap().to_string();
        assert!(err.contains("ACTIVITY_TABLE_NAME") && err.contains("DEAD_LETTER_QUEUE_URL"), "{err}");
    }
}
