//! workflow-api's configuration, read once at start.

use kit::config::{ConfigError, Env};

pub struct Config {
    pub workflows_table: String,
    pub audit_table: String,
    /// The audit trail's KMS signing key (ARN): its public key verifies the trail.
    pub signing_key: String,
    pub notifications_table: String,
    /// Where `workflow.action` goes.
    pub topic_arn: String,
}

impl Config {
    pub fn read(mut env: Env) -> Result<Self, ConfigError> {
        let config = Self {
            workflows_table: env.required("WORKFLOWS_TABLE_NAME"),
            audit_table: env.required("AUDIT_TABLE_NAME"),
            signing_key: env.required("AUDIT_SIGNING_KEY_ARN"),
            notifications_table: env.required("NOTIFICATIONS_TABLE_NAME"),
            topic_arn: env.required("WORKFLOW_ACTIONS_TOPIC_ARN"),
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
        for name in [
            "WORKFLOWS_TABLE_NAME",
            "AUDIT_TABLE_NAME",
            "AUDIT_SIGNING_KEY_ARN",
            "NOTIFICATIONS_TABLE_NAME",
            "WORKFLOW_ACTIONS_TOPIC_ARN",
        ] {
            assert!(err.contains(name), "{err}");
        }
    }
}
