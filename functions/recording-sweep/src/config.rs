//! recording-sweep's configuration, read once at start.

use kit::config::{ConfigError, Env};

pub struct Config {
    pub contacts_table: String,
    pub poll_queue_url: String,
    pub check_queue_url: String,
    pub metrics_namespace: String,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::read(Env::from_process())
    }

    pub fn read(mut env: Env) -> Result<Self, ConfigError> {
        let config = Self {
            contacts_table: contacts::config::contacts_table(&mut env),
            poll_queue_url: env.required("POLL_CONTACT_QUEUE_URL"),
            check_queue_url: env.required("CHECK_RECORDING_QUEUE_URL"),
            metrics_namespace: contacts::config::metrics_namespace(&mut env),
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
        for name in ["CONTACTS_TABLE_NAME", "POLL_CONTACT_QUEUE_URL", "CHECK_RECORDING_QUEUE_URL"] {
            assert!(err.contains(name), "{err}");
        }
    }
}
