//! mark-reported's own configuration (the shared step settings are the kit's
//! `StepConfig`, its table the reports table).

use kit::config::Env;
#[cfg(test)]
use kit::config::StepConfig;

pub struct Config {
    /// The activity table, whose events the report marks.
    pub activity_table: String,
    /// Where `report.requested` goes.
    pub topic_arn: String,
}

impl Config {
    pub fn read(env: &mut Env) -> Self {
        Self {
            activity_table: reports::config::activity_table(env),
            topic_arn: env.required("REPORT_REQUESTED_TOPIC_ARN"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shared settings and this function's, as the main reads them.
    fn load(env: Env) -> Result<Config, kit::config::ConfigError> {
        StepConfig::load(env, crate::handler::STEP, reports::config::TABLE, Config::read).map(|(_, own)| own)
    }

    #[test]
    fn names_every_missing_variable() {
        let err = load(Env::from_map(Default::default())).err().unwrap().to_string();
        for name in ["ACTIVITY_TABLE_NAME", "REPORTS_TABLE_NAME", "DEAD_LETTER_QUEUE_URL", "REPORT_REQUESTED_TOPIC_ARN"]
        {
            assert!(err.contains(name), "{err}");
        }
    }
}
