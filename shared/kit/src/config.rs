//! Typed configuration from the environment: read once at start, and fail fast with
//! a message naming every missing or invalid variable (not just the first).

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

/// Every missing and invalid variable, found at start-up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    /// Variables that are absent or blank.
    pub missing: Vec<String>,
    /// Variables with a value that does not parse or is out of range, with why.
    pub invalid: Vec<(String, String)>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "configuration error:")?;
        if !self.missing.is_empty() {
            write!(f, " missing environment variable(s): {}.", self.missing.join(", "))?;
        }
        for (name, why) in &self.invalid {
            write!(f, " {name} is invalid: {why}.")?;
        }
        Ok(())
    }
}

/// Reads variables and remembers what was wrong; [`Env::finish`] reports it all.
pub struct Env {
    vars: HashMap<String, String>,
    missing: Vec<String>,
    invalid: Vec<(String, String)>,
}

impl Env {
    /// The process environment.
    pub fn from_process() -> Self {
        Self::from_map(std::env::vars().collect())
    }

    /// Variables from a map (tests).
    pub fn from_map(vars: HashMap<String, String>) -> Self {
        Self { vars, missing: Vec::new(), invalid: Vec::new() }
    }

    fn get(&self, name: &str) -> Option<String> {
        self.vars.get(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
    }

    /// A required string; records it as missing if absent or blank.
    pub fn required(&mut self, name: &str) -> String {
        self.get(name).unwrap_or_else(|| {
            self.missing.push(name.to_owned());
            String::new()
        })
    }

    /// An optional string (blank counts as absent).
    pub fn optional(&mut self, name: &str) -> Option<String> {
        self.get(name)
    }

    /// A required comma-separated list that may be empty: missing only if the
    /// variable is absent (blank means none). Items are trimmed; empty ones dropped.
    pub fn required_list(&mut self, name: &str) -> Vec<String> {
        match self.vars.get(name) {
            None => {
                self.missing.push(name.to_owned());
                Vec::new()
            }
            Some(raw) => raw.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect(),
        }
    }

    /// A typed value with a default.
    pub fn parse_or<T>(&mut self, name: &str, default: T) -> T
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        match self.get(name) {
            None => default,
            Some(raw) => raw.parse().unwrap_or_else(|e: T::Err| {
                self.invalid.push((name.to_owned(), format!("{raw:?}: {e}")));
                default
            }),
        }
    }

    /// A required typed value.
    pub fn parse_required<T>(&mut self, name: &str) -> Option<T>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        let raw = self.get(name);
        match raw {
            None => {
                self.missing.push(name.to_owned());
                None
            }
            Some(raw) => match raw.parse() {
                Ok(v) => Some(v),
                Err(e) => {
                    self.invalid.push((name.to_owned(), format!("{raw:?}: {e}")));
                    None
                }
            },
        }
    }

    /// Records a problem found while validating a value.
    pub fn reject(&mut self, name: &str, why: impl Into<String>) {
        self.invalid.push((name.to_owned(), why.into()));
    }

    /// Ok if everything read was present and valid.
    pub fn finish(self) -> Result<(), ConfigError> {
        if self.missing.is_empty() && self.invalid.is_empty() {
            Ok(())
        } else {
            Err(ConfigError { missing: self.missing, invalid: self.invalid })
        }
    }
}

/// Reads the settings every SQS step shares (see the template's `Globals`). The
/// retry schedule is the policy's ([`crate::retry`]), not a setting: the template's
/// queues are derived from it. `MAX_RECEIVE_COUNT` is the queue's own redrive count
/// (the template passes it), so the kit gives up on the receive SQS would.
pub fn runner_config(env: &mut Env, step: &str) -> crate::batch::RunnerConfig {
    let mut c = crate::batch::RunnerConfig::new(step);
    c.max_receive_count = env.parse_or("MAX_RECEIVE_COUNT", c.max_receive_count);
    c.concurrency = env.parse_or("RECORD_CONCURRENCY", c.concurrency);
    let margin_ms: u64 = env.parse_or("DEADLINE_MARGIN_MS", c.deadline_margin.as_millis() as u64);
    c.deadline_margin = std::time::Duration::from_millis(margin_ms);
    if c.concurrency == 0 {
        env.reject("RECORD_CONCURRENCY", "must be at least 1");
    }
    if c.max_receive_count == 0 {
        env.reject("MAX_RECEIVE_COUNT", "must be at least 1");
    }
    c
}

/// The metrics namespace when `METRICS_NAMESPACE` is not set.
pub const DEFAULT_METRICS_NAMESPACE: &str = "workflows";

/// `METRICS_NAMESPACE`, else [`DEFAULT_METRICS_NAMESPACE`].
pub fn metrics_namespace(env: &mut Env) -> String {
    env.optional("METRICS_NAMESPACE").unwrap_or_else(|| DEFAULT_METRICS_NAMESPACE.to_owned())
}

/// What every SQS step reads, whatever it does: its state's table, its DLQ, its
/// metrics namespace and its runner's settings. A function's own settings (topics,
/// providers) stay in its own `config.rs`, read from the same [`Env`] so one error
/// names everything missing.
///
/// ```
/// use kit::config::{Env, StepConfig};
///
/// let vars = [("ORDERS_TABLE_NAME", "orders"), ("DEAD_LETTER_QUEUE_URL", "https://sqs/dlq"), ("TOPIC_ARN", "arn:t")];
/// let env = Env::from_map(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect());
/// let (step, topic) = StepConfig::load(env, "record-order", "ORDERS_TABLE_NAME", |env| env.required("TOPIC_ARN"))?;
/// assert_eq!((step.table.as_str(), topic.as_str()), ("orders", "arn:t"));
/// assert_eq!(step.metrics_namespace, "workflows");
///
/// let err = StepConfig::load(Env::from_map(Default::default()), "record-order", "ORDERS_TABLE_NAME", |_| ())
///     .err()
///     .unwrap();
/// assert_eq!(err.missing, ["ORDERS_TABLE_NAME", "DEAD_LETTER_QUEUE_URL"]);
/// # Ok::<(), kit::config::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct StepConfig {
    /// The workflow state's table, from the variable the step names.
    pub table: String,
    /// `DEAD_LETTER_QUEUE_URL`: where the runner puts records it gives up on.
    pub dead_letter_queue_url: String,
    /// `METRICS_NAMESPACE` (default `workflows`).
    pub metrics_namespace: String,
    /// The runner's settings (see [`runner_config`]).
    pub runner: crate::batch::RunnerConfig,
}

impl StepConfig {
    /// Reads the shared settings; the table's name is in `table_var`. Problems are
    /// recorded in `env` (see [`Env::finish`]).
    pub fn read(env: &mut Env, step: &str, table_var: &str) -> Self {
        Self {
            table: env.required(table_var),
            dead_letter_queue_url: env.required("DEAD_LETTER_QUEUE_URL"),
            metrics_namespace: metrics_namespace(env),
            runner: runner_config(env, step),
        }
    }

    /// Reads the shared settings and the function's own (`own`), once, and fails
    /// naming every missing or invalid variable of both.
    pub fn load<T>(
        mut env: Env,
        step: &str,
        table_var: &str,
        own: impl FnOnce(&mut Env) -> T,
    ) -> Result<(Self, T), ConfigError> {
        let config = Self::read(&mut env, step, table_var);
        let own = own(&mut env);
        env.finish()?;
        Ok((config, own))
    }

    /// [`StepConfig::load`] from the process environment.
    pub fn from_env<T>(step: &str, table_var: &str, own: impl FnOnce(&mut Env) -> T) -> Result<(Self, T), ConfigError> {
        Self::load(Env::from_process(), step, table_var, own)
    }
}

/// Start-up helper for mains: a configuration error is printed and logged, then the
/// process exits with status 2, so Lambda reports an init failure naming the variable.
pub fn or_exit<T>(result: Result<T, ConfigError>) -> T {
    match result {
        Ok(v) => v,
        Err(e) => {
            tracing::error!(error = %e, "invalid configuration");
            eprintln!("{e}");
            std::process::exit(2);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_map(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    #[test]
    fn names_every_missing_and_invalid_variable() {
        let mut e = env(&[("COUNT", "ten"), ("BLANK", "  ")]);
        let _ = e.required("TABLE_NAME");
        let _ = e.required("BLANK");
        let _: u32 = e.parse_or("COUNT", 3);
        let err = e.finish().unwrap_err();
        let text = err.to_string();
        assert!(text.contains("TABLE_NAME"), "{text}");
        assert!(text.contains("BLANK"), "{text}");
        assert!(text.contains("COUNT is invalid"), "{text}");
    }

    #[test]
    fn present_values_are_read_and_typed() {
        let mut e = env(&[("TABLE_NAME", "t"), ("MAX_RECEIVE_COUNT", "7")]);
        assert_eq!(e.required("TABLE_NAME"), "t");
        let c = runner_config(&mut e, "s");
        assert_eq!(c.max_receive_count, 7);
        assert!(e.finish().is_ok());
    }

    #[test]
    fn a_list_may_be_blank_but_not_absent() {
        let mut e = env(&[("NONE", ""), ("SOME", " a, b ,,c ")]);
        assert!(e.required_list("NONE").is_empty());
        assert_eq!(e.required_list("SOME"), ["a", "b", "c"]);
        assert!(e.required_list("ABSENT").is_empty());
        let err = e.finish().unwrap_err();
        assert_eq!(err.missing, ["ABSENT"]);
    }

    #[test]
    fn runner_config_defaults_to_the_policy_and_rejects_a_zero_receive_count() {
        let mut e = env(&[]);
        let c = runner_config(&mut e, "s");
        assert_eq!(c.max_receive_count, crate::retry::STANDARD.max_receive_count());
        assert!(e.finish().is_ok());
        let mut e = env(&[("MAX_RECEIVE_COUNT", "0")]);
        let _ = runner_config(&mut e, "s");
        assert!(e.finish().unwrap_err().to_string().contains("MAX_RECEIVE_COUNT"));
    }
}
