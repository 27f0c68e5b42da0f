//! poll-contact's own configuration (the shared step settings are the kit's
//! `StepConfig`, its table the contacts table).

use std::time::Duration;

use contacts::config::{describe_rate, poll_concurrency};
use contacts::pace::Paced;
use kit::config::Env;
#[cfg(test)]
use kit::config::StepConfig;

/// The longest spacing allowed: a batch of 5 records, one call each, must fit in
/// the function's 15 s timeout with room to spare.
const MAX_SPACING: Duration = Duration::from_secs(2);

pub struct Config {
    /// How far apart this instance starts DescribeContact calls: its share of
    /// `CONNECT_DESCRIBE_RPS` among `POLL_MAX_CONCURRENCY` instances.
    pub describe_spacing: Duration,
}

impl Config {
    pub fn read(env: &mut Env) -> Self {
        let describe_spacing = Paced::<()>::interval_for(describe_rate(env), poll_concurrency(env));
        if describe_spacing > MAX_SPACING {
            env.reject(
                "CONNECT_DESCRIBE_RPS",
                format!("with POLL_MAX_CONCURRENCY, spaces calls {describe_spacing:?} apart: at most {MAX_SPACING:?}"),
            );
        }
        Self { describe_spacing }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shared settings and this function's, as the main reads them.
    fn load(env: Env) -> Result<Config, kit::config::ConfigError> {
        StepConfig::load(env, crate::handler::STEP, contacts::config::TABLE, Config::read).map(|(_, own)| own)
    }

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
        assert_eq!(load(vars(&[])).ok().unwrap().describe_spacing, Duration::from_secs(1));
        let fast = vars(&[("CONNECT_DESCRIBE_RPS", "10"), ("POLL_MAX_CONCURRENCY", "2")]);
        assert_eq!(load(fast).ok().unwrap().describe_spacing, Duration::from_millis(200));
        let slow = vars(&[("CONNECT_DESCRIBE_RPS", "0.5")]);
        assert!(load(slow).err().unwrap().to_string().contains("CONNECT_DESCRIBE_RPS"));
    }

    #[test]
    fn names_every_missing_variable() {
        let err = load(Env::from_map(Default::default())).err().unwrap().to_string();
        for name in ["CONTACTS_TABLE_NAME", "DEAD_LETTER_QUEUE_URL"] {
            assert!(err.contains(name), "{err}");
        }
    }
}
