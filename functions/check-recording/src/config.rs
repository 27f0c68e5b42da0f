//! check-recording's own configuration (the shared step settings are the kit's
//! `StepConfig`, its table the contacts table).

use contacts::config::recording_grace;
use contacts::usecases::CheckSettings;
use kit::config::Env;
#[cfg(test)]
use kit::config::StepConfig;

pub struct Config {
    /// The recording bucket Connect writes to.
    pub bucket: String,
    /// Where `contact.recording-missing` goes.
    pub topic_arn: String,
    pub check: CheckSettings,
}

impl Config {
    pub fn read(env: &mut Env) -> Self {
        Self {
            bucket: env.required("RECORDING_BUCKET_NAME"),
            topic_arn: env.required("RECORDING_MISSING_TOPIC_ARN"),
            check: CheckSettings {
                // Connect's default layout: connect/{instance alias}/CallRecordings.
                key_prefix: env.required("RECORDING_KEY_PREFIX"),
                grace: recording_grace(env),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shared settings and this function's, as the main reads them.
    fn load(env: Env) -> Result<Config, kit::config::ConfigError> {
        StepConfig::load(env, crate::handler::STEP, contacts::config::TABLE, Config::read).map(|(_, own)| own)
    }

    #[test]
    fn names_every_missing_variable() {
        let err = load(Env::from_map(Default::default())).err().unwrap().to_string();
        for name in
            ["CONTACTS_TABLE_NAME", "RECORDING_BUCKET_NAME", "RECORDING_MISSING_TOPIC_ARN", "RECORDING_KEY_PREFIX"]
        {
            assert!(err.contains(name), "{err}");
        }
    }

    #[test]
    fn the_grace_period_is_read_and_bounded() {
        let vars = |grace: &str| {
            Env::from_map(
                [
                    ("CONTACTS_TABLE_NAME", "t"),
                    ("DEAD_LETTER_QUEUE_URL", "q"),
                    ("RECORDING_BUCKET_NAME", "b"),
                    ("RECORDING_MISSING_TOPIC_ARN", "a"),
                    ("RECORDING_KEY_PREFIX", "p"),
                    ("RECORDING_GRACE_SECONDS", grace),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            )
        };
        assert_eq!(load(vars("3")).ok().unwrap().check.grace.as_secs(), 3);
        assert!(load(vars("100000")).err().unwrap().to_string().contains("RECORDING_GRACE_SECONDS"));
    }
}
