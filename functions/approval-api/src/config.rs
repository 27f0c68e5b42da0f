//! approval-api's configuration, read once at start.

use kit::config::{ConfigError, Env};

use crate::callers::{AllowList, Callers};

/// Who may create and read requests (the on-prem service's principals).
pub const SERVICE_PRINCIPALS: &str = "APPROVAL_SERVICE_PRINCIPAL_ARNS";
/// Who may report executions (the on-prem processor's principals).
pub const PROCESSOR_PRINCIPALS: &str = "APPROVAL_PROCESSOR_PRINCIPAL_ARNS";

pub struct Config {
    pub table: String,
    pub requested_topic_arn: String,
    pub decided_topic_arn: String,
    /// After this long an unconfirmed announcement is re-published by the sweep.
    pub outbox_delay: chrono::Duration,
    /// Who may call the IAM routes, per route (empty lists admit nobody).
    pub callers: Callers,
}

/// A comma-separated allow-list: present (blank for nobody), every item an IAM
/// role, user or role session ARN.
fn allow_list(env: &mut Env, name: &str) -> AllowList {
    let items = env.required_list(name);
    AllowList::parse(&items).unwrap_or_else(|bad| {
        env.reject(name, format!("{bad:?} is not an IAM role, user or role session ARN"));
        AllowList::default()
    })
}

impl Config {
    pub fn read(mut env: Env) -> Result<Self, ConfigError> {
        // The re-publish delay is a retry wait: tests compress it with the rest.
        let time_scale = kit::retry::TimeScale::from_env(&mut env);
        let config = Self {
            table: env.required("APPROVALS_TABLE_NAME"),
            requested_topic_arn: env.required("APPROVAL_REQUESTED_TOPIC_ARN"),
            decided_topic_arn: env.required("APPROVAL_DECIDED_TOPIC_ARN"),
            outbox_delay: time_scale
                .compress_chrono(chrono::Duration::seconds(env.parse_or("OUTBOX_DELAY_SECONDS", 120i64))),
            callers: Callers {
                service: allow_list(&mut env, SERVICE_PRINCIPALS),
                processor: allow_list(&mut env, PROCESSOR_PRINCIPALS),
            },
        };
        env.finish()?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_map(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    const COMPLETE: [(&str, &str); 3] = [
        ("APPROVALS_TABLE_NAME", "t"),
        ("APPROVAL_REQUESTED_TOPIC_ARN", "arn:aws:sns:eu-west-2:123456789012:requested"),
        ("APPROVAL_DECIDED_TOPIC_ARN", "arn:aws:sns:eu-west-2:123456789012:decided"),
    ];

    #[test]
    fn names_every_missing_variable() {
        let err = Config::read(Env::from_map(Default::default())).err().unwrap().to_string();
        for name in [
            "APPROVALS_TABLE_NAME",
            "APPROVAL_REQUESTED_TOPIC_ARN",
            "APPROVAL_DECIDED_TOPIC_ARN",
            SERVICE_PRINCIPALS,
            PROCESSOR_PRINCIPALS,
        ] {
            assert!(err.contains(name), "{err}");
        }
    }

    #[test]
    fn the_allow_lists_are_read_and_blank_admits_nobody() {
        let mut vars = COMPLETE.to_vec();
        vars.push((SERVICE_PRINCIPALS, "arn:aws:iam::123456789012:role/a, arn:aws:iam::123456789012:user/b"));
        vars.push((PROCESSOR_PRINCIPALS, ""));
        let config = Config::read(env(&vars)).unwrap();
        assert!(config.callers.service.allows("arn:aws:sts::123456789012:assumed-role/a/s"));
        assert!(config.callers.service.allows("arn:aws:iam::123456789012:user/b"));
        assert!(config.callers.processor.is_empty());
    }

    #[test]
    fn an_entry_that_is_not_a_principal_arn_is_named() {
        let mut vars = COMPLETE.to_vec();
        vars.push((SERVICE_PRINCIPALS, "approval-service"));
        vars.push((PROCESSOR_PRINCIPALS, "arn:aws:iam::123456789012:role/p"));
        let err = Config::read(env(&vars)).err().unwrap().to_string();
        assert!(err.contains(SERVICE_PRINCIPALS) && err.contains("\"approval-service\""), "{err}");
        assert!(!err.contains(PROCESSOR_PRINCIPALS), "{err}");
    }
}
