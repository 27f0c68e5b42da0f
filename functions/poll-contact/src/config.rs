//! poll-contact's configuration, read once at start.

use std::time::Duration;

use contacts::config::{describe_rate, poll_concurrency, StepSettings};
use contacts::pace::Paced;
use kit::config::{ConfigError, Env};

/// The longest spacing allowed: a batch of 5 records, one call each, must fit in
/// the function's 15 s timeout with room to spare.
const MAX_SPACING: Duration = Duration::from_secs(2);

pub struct Config {
    pub step: StepSettings,
    /// How far apart this instance starts DescribeContact calls: its share of
    /// `CONNECT_DESCRIBE_RPS` among `POLL_MAX_CONCURRENCY` instances.
    pub describe_spacing: Duration,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::read(Env::from_process())
    }

    pub fn read(mut env: Env) -> Result<Self, ConfigError> {
        let step = StepSettings::read(&mut env, crate::handler::STEP);
        let describe_spacing = Paced::<()>::interval_for(describe_rate(&mut env), poll_concurrency(&mut env));
        if describe_spacing > MAX_SPACING {
            env.reject(
                "CONNECT_DESCRIBE_RPS",
                format!("with POLL_MAX_CONCURRENCY, spaces calls {describe_spacing:?} apart: at most {MAX_SPACING:?}"),
            );
        }
        env.finish()?;
        Ok(Self { step, describe_spacing })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Env {
        let mut all: std::collections::HashMap<String, String> =
            [("CONTACTS_TABLE_NAME", "t"), ("DEAD_LETTER_QUEUE_URL", "q")]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
        all.extend(pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        Env::from_map(all)
    }

    #[test]
    fn the_rate_is_shared_by_the_instances() {
        assert_eq!(Config::read(vars(&[])).ok().unwrap().describe_spacing, Duration::from_secs(1));
        let fast = vars(&[("CONNECT_DESCRIBE_RPS", "10"), ("POLL_MAX_CONCURRENCY", "2")]);
        assert_eq!(Config::read(fast).ok().unwrap().describe_spacing, Duration::from_millis(200));
        let slow = vars(&[("CONNECT_DESCRIBE_RPS", "0.5")]);
        assert!(Config::read(slow).err().unwrap().to_string().contains("CONNECT_DESCRIBE_RPS"));
    }

    #[test]
    fn names_every_missing_variable() {
        let err = Config::read(Env::from_map(Default::default())).err().unwrap().to_string();
        for name in ["CONTACTS_TABLE_NAME", "DEAD_LETTER_QUEUE_URL"] {
            assert!(err.contains(name), "{err}");
        }
    }
}
