//! enqueue-decision's configuration, read once at start.

use approvals::config::StepSettings;
use kit::config::{ConfigError, Env};

pub struct Config {
    pub step: StepSettings,
    /// `approval-decisions.fifo`, which the on-prem processor reads.
    pub decisions_queue_url: String,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::read(Env::from_process())
    }

    pub fn read(mut env: Env) -> Result<Self, ConfigError> {
        let config = Self {
            step: StepSettings::read(&mut env, crate::handler::STEP),
            decisions_queue_url: env.required("DECISIONS_QUEUE_URL"),
        };
        if !config.decisions_queue_url.is_empty() && !config.decisions_queue_url.ends_with(".fifo") {
            env.reject("DECISIONS_QUEUE_URL", "must be a FIFO queue (.fifo)");
        }
        env.finish()?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_every_missing_variable_and_wants_a_fifo_queue() {
        let err = Config::read(Env::from_map(Default::default())).err().unwrap().to_string();
        for name in ["APPROVALS_TABLE_NAME", "DEAD_LETTER_QUEUE_URL", "DECISIONS_QUEUE_URL"] {
            assert!(err.contains(name), "{err}");
        }
        let vars =
            [("APPROVALS_TABLE_NAME", "t"), ("DEAD_LETTER_QUEUE_URL", "d"), ("DECISIONS_QUEUE_URL", "http://q/plain")];
        let env = Env::from_map(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect());
        assert!(Config::read(env).err().unwrap().to_string().contains("FIFO"));
    }
}
