//! create-audit-record's own configuration (the shared step settings are the kit's
//! `StepConfig`, its table the audit table).

use kit::config::Env;
#[cfg(test)]
use kit::config::StepConfig;

/// The variable naming the audit table.
pub const TABLE: &str = "AUDIT_TABLE_NAME";

pub struct Config {
    /// The trail's KMS signing key (ARN).
    pub signing_key: String,
}

impl Config {
    pub fn read(env: &mut Env) -> Self {
        Self { signing_key: env.required("AUDIT_SIGNING_KEY_ARN") }
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
        for name in ["AUDIT_TABLE_NAME", "AUDIT_SIGNING_KEY_ARN", "DEAD_LETTER_QUEUE_URL"] {
            assert!(err.contains(name), "{err}");
        }
    }
}
