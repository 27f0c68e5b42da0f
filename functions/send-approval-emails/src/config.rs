//! send-approval-emails' configuration, read once at start.

use approvals::config::{sender, StepSettings};
use kit::config::{ConfigError, Env};

pub struct Config {
    pub step: StepSettings,
    /// The verified SES identity the emails come from.
    pub sender: String,
    /// Where the links point: the HTTP API (`/approvals/{id}` lives there).
    pub link_base_url: String,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::read(Env::from_process())
    }

    pub fn read(mut env: Env) -> Result<Self, ConfigError> {
        let config = Self {
            step: StepSettings::read(&mut env, crate::handler::STEP),
            sender: sender(&mut env),
            link_base_url: env.required("LINK_BASE_URL"),
        };
        if !config.link_base_url.is_empty() && !config.link_base_url.starts_with("http") {
            env.reject("LINK_BASE_URL", "must be an http(s) URL");
        }
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
        for name in ["APPROVALS_TABLE_NAME", "DEAD_LETTER_QUEUE_URL", "SENDER_EMAIL", "LINK_BASE_URL"] {
            assert!(err.contains(name), "{err}");
        }
    }
}
