//! send-approval-emails' own configuration (the shared step settings are the kit's
//! `StepConfig`, its table the approvals table).

use approvals::config::sender;
use kit::config::Env;
#[cfg(test)]
use kit::config::StepConfig;

pub struct Config {
    /// The verified SES identity the emails come from.
    pub sender: String,
    /// Where the links point: the HTTP API (`/approvals/{id}` lives there).
    pub link_base_url: String,
}

impl Config {
    pub fn read(env: &mut Env) -> Self {
        let config = Self { sender: sender(env), link_base_url: env.required("LINK_BASE_URL") };
        if !config.link_base_url.is_empty() && !config.link_base_url.starts_with("http") {
            env.reject("LINK_BASE_URL", "must be an http(s) URL");
        }
        config
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
        for name in ["APPROVALS_TABLE_NAME", "DEAD_LETTER_QUEUE_URL", "SENDER_EMAIL", "LINK_BASE_URL"] {
            assert!(err.contains(name), "{err}");
        }
    }
}
