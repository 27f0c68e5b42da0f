//! query-api's configuration, read once at start (`kit::start::function`).

use kit::config::{ConfigError, Env};

pub struct Config {
    pub table: String,
    pub reports_table: String,
}

impl Config {
    pub fn read(mut env: Env) -> Result<Self, ConfigError> {
        let config =
            Self { table: env.required("ACTIVITY_TABLE_NAME"), reports_table: env.required("REPORTS_TABLE_NAME") };
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
        assert!(err.contains("ACTIVITY_TABLE_NAME") && err.contains("REPORTS_TABLE_NAME"), "{err}");
    }
}
