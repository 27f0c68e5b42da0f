//! query-api's configuration, read once at start.

use kit::config::{ConfigError, Env};

pub struct Config {
    pub table: String,
    pub reports_table: String,
    pub metrics_namespace: String,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        let mut env = Env::from_process();
        let config = Self {
            table: env.required("ACTIVITY_TABLE_NAME"),
            reports_table: env.required("REPORTS_TABLE_NAME"),
            metrics_namespace: env.optional("METRICS_NAMESPACE").unwrap_or_else(|| "workflows".to_owned()),
        };
        env.finish()?;
        Ok(config)
    }
}
