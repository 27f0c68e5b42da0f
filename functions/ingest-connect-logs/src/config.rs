//! ingest-connect-logs' configuration, read once at start.

use kit::config::{ConfigError, Env};

pub struct Config {
    pub contacts_table: String,
}

impl Config {
    pub fn read(mut env: Env) -> Result<Self, ConfigError> {
        let config = Self { contacts_table: contacts::config::contacts_table(&mut env) };
        env.finish()?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_missing_table() {
        let err = Config::read(Env::from_map(Default::default())).err().unwrap().to_string();
        assert!(err.contains("CONTACTS_TABLE_NAME"), "{err}");
    }
}
