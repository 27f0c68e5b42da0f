//! recording-sweep's configuration, read once at start.

use contacts::usecases::{SweepSettings, WatchSettings};
use kit::config::{ConfigError, Env};

pub struct Config {
    pub contacts_table: String,
    pub poll_queue_url: String,
    pub check_queue_url: String,
    /// The poll queue's cap, from `CONNECT_DESCRIBE_RPS`.
    pub sweep: SweepSettings,
    /// `FLOW_LOGS_SILENCE_SECONDS`, for the flow-log watch.
    pub watch: WatchSettings,
}

impl Config {
    pub fn read(mut env: Env) -> Result<Self, ConfigError> {
        let config = Self {
            contacts_table: contacts::config::contacts_table(&mut env),
            poll_queue_url: env.required("POLL_CONTACT_QUEUE_URL"),
            check_queue_url: env.required("CHECK_RECORDING_QUEUE_URL"),
            sweep: SweepSettings::for_rate(contacts::config::describe_rate(&mut env)),
            watch: WatchSettings { silence: contacts::config::flow_logs_silence(&mut env) },
        };
        env.finish()?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_poll_queue_holds_four_minutes_of_calls_at_the_rate() {
        let vars = |rps: &str| {
            Env::from_map(
                [
                    ("CONTACTS_TABLE_NAME", "t"),
                    ("POLL_CONTACT_QUEUE_URL", "p"),
                    ("CHECK_RECORDING_QUEUE_URL", "c"),
                    ("CONNECT_DESCRIBE_RPS", rps),
                    ("FLOW_LOGS_SILENCE_SECONDS", "600"),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            )
        };
        let config = Config::read(vars("2")).ok().unwrap();
        assert_eq!(config.sweep.poll_queue_cap, 480);
        assert_eq!(config.watch.silence.as_secs(), 600);
        assert!(Config::read(vars("0")).err().unwrap().to_string().contains("CONNECT_DESCRIBE_RPS"));
    }

    #[test]
    fn names_every_missing_variable() {
        let err = Config::read(Env::from_map(Default::default())).err().unwrap().to_string();
        for name in ["CONTACTS_TABLE_NAME", "POLL_CONTACT_QUEUE_URL", "CHECK_RECORDING_QUEUE_URL"] {
            assert!(err.contains(name), "{err}");
        }
    }
}
