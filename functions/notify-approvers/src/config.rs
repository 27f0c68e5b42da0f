//! notify-approvers' own configuration (the shared step settings are the kit's
//! `StepConfig`, its table the approvals table).

use approvals::config::sender;
use kit::config::Env;
#[cfg(test)]
use kit::config::StepConfig;

pub struct Config {
    /// The verified SES identity the notices come from.
    pub sender: String,
}

impl Config {
    pub fn read(env: &mut Env) -> Self {
        Self { sender: sender(env) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shared settings and this function's, as the main reads them.
    fn load(env: Env) -> Result<Config, kit::config::ConfigError> {
        StepConfig::load(env, crate::handler::STEP, approvals::config::TABLE, Config::read).map(|(_, own)| own)
    }

    #[test]
    fn names_every_missing_variable() {
        let err = load(Env::from_map(Default::default())).err().unwrap().to_string();
        for name in ["APPROVALS_TABLE_NAME", "DEAD_LETTER_QUEUE_URL", "SENDER_EMAIL"] {
            assert!(err.contains(name), "{err}");
        }
    }
}
