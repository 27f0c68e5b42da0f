//! enqueue-decision's own configuration (the shared step settings are the kit's
//! `StepConfig`, its table the approvals table).

use kit::config::Env;
#[cfg(test)]
use kit::config::StepConfig;

pub struct Config {
    /// `approval-decisions.fifo`, which the on-prem processor reads.
    pub decisions_queue_url: String,
}

impl Config {
    pub fn read(env: &mut Env) -> Self {
        let decisions_queue_url = env.required("DECISIONS_QUEUE_URL");
        if !decisions_queue_url.is_empty() && !decisions_queue_url.ends_with(".fifo") {
            env.reject("DECISIONS_QUEUE_URL", "must be a FIFO queue (.fifo)");
        }
        Self { decisions_queue_url }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shared settings and this function's, as the main reads them.
    fn load(env: Env) -> Result<Config, kit::config::ConfigError> {
        StepConfig::load(env, crate::handler::STEP, approvals::config::TABLE, Config::read).map(|(_, own)| own)
    }

    #[test]
    fn names_every_missing_variable_and_wants_a_fifo_queue() {
        let err = load(Env::from_map(Default::default())).err().unwrap().to_string();
        for name in ["APPROVALS_TABLE_NAME", "DEAD_LETTER_QUEUE_URL", "DECISIONS_QUEUE_URL"] {
            assert!(err.contains(name), "{err}");
        }
        let vars =
            [("APPROVALS_TABLE_NAME", "t"), ("DEAD_LETTER_QUEUE_URL", "d"), ("DECISIONS_QUEUE_URL", "http://q/plain")];
        let env = Env::from_map(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect());
        assert!(load(env).err().unwrap().to_string().contains("FIFO"));
    }
}
