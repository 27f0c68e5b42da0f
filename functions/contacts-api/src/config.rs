//! contacts-api's configuration, read once at start.

use kit::config::{ConfigError, Env};

use crate::auth::OpsRole;

pub struct Config {
    pub contacts_table: String,
    pub ops: OpsRole,
}

impl Config {
    pub fn read(mut env: Env) -> Result<Self, ConfigError> {
        let config = Self {
            contacts_table: contacts::config::contacts_table(&mut env),
            ops: OpsRole {
                claim: env.optional("OPS_ROLE_CLAIM").unwrap_or_else(|| "roles".to_owned()),
                role: env.optional("OPS_ROLE").unwrap_or_else(|| "ops".to_owned()),
            },
        };
        env.finish()?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_missing_table_and_defaults_the_role() {
        let err = Config::read(Env::from_map(Default::default())).err().unwrap().to_string();
        assert!(err.contains("CONTACTS_TABLE_NAME"), "{err}");
        let env = Env::from_map([("CONTACTS_TABLE_NAME".to_owned(), "t".to_owned())].into());
        let config = Config::read(env).ok().unwrap();
        assert_eq!((config.ops.claim.as_str(), config.ops.role.as_str()), ("roles", "ops"));
    }
}
