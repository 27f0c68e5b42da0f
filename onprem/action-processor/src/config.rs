//! The processor's configuration: environment variables, read once, typed, and
//! every problem named at once before anything starts.

use std::path::PathBuf;
use std::time::Duration;

use kit::backoff::Backoff;
use kit::config::{ConfigError, Env};
use kit::retry::TimeScale;

/// How the processor proves itself to the approval API.
#[derive(Clone, PartialEq, Eq)]
pub enum ApiAuth {
    /// `Authorization: Bearer …`: only for an API whose execution route takes a JWT
    /// (the template's, in AWS and locally, is `AWS_IAM`).
    Bearer(String),
    /// SigV4 with the processor's AWS credentials (the API's `AWS_IAM` routes; the
    /// default).
    SigV4 { region: String },
}

impl std::fmt::Debug for ApiAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiAuth::Bearer(_) => f.write_str("Bearer(…)"),
            ApiAuth::SigV4 { region } => write!(f, "SigV4({region})"),
        }
    }
}

/// Which executor runs approved actions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecutorKind {
    /// Logs the action and reports success: a dry run.
    Log,
    /// Runs `program args…` with the parameters as JSON on stdin; exit 0 = EXECUTED.
    Command { program: String, args: Vec<String> },
    /// POSTs the action as JSON (`Idempotency-Key: request id`); 2xx = EXECUTED.
    Webhook { url: String },
}

#[derive(Debug, Clone)]
pub struct Config {
    pub queue_url: String,
    pub api_url: String,
    pub auth: ApiAuth,
    pub executor: ExecutorKind,
    pub executor_timeout: Duration,
    /// Visibility of a received message; a heartbeat renews it while the action runs,
    /// so a crashed processor's message comes back within this long.
    pub visibility: Duration,
    /// Long-poll wait (0–20 s).
    pub wait: Duration,
    pub max_in_flight: usize,
    /// On SIGTERM, how long running actions may take to finish before they are stopped.
    pub shutdown_grace: Duration,
    pub http_timeout: Duration,
    /// `RETRY_TIME_SCALE`: divides every wait below (tests and the local stack run
    /// an outage of minutes in seconds). SQS visibility timeouts are not divided:
    /// SQS takes whole seconds, and the local stack compresses them itself.
    pub time_scale: TimeScale,
    /// Pause before retrying a failed API call within one attempt (doubles each time).
    pub api_backoff: Duration,
    /// While the API is down: probes spaced 2 s, 4 s, … up to 5 minutes, so a
    /// recovered API is used again within 5 minutes without hammering a broken one.
    pub api_probe: Backoff,
    /// Pause after a failed poll of the queue.
    pub poll_backoff: Duration,
    /// `HEALTH_FILE`: where the health report is kept (JSON; `action-processor
    /// health` reads it and exits 1 when unhealthy). None: no file.
    pub health_file: Option<PathBuf>,
    /// `METRICS_NAMESPACE`: where the EMF lines (`DependencyFailures`) count.
    pub metrics_namespace: String,
    /// `STATE_DIR` (or systemd's `STATE_DIRECTORY`, from `StateDirectory=`): where the
    /// outcome of an action that ran is kept until the API has it
    /// ([`crate::outcomes`]). Required: without it an unreported outcome would be
    /// lost on a restart and end "interrupted".
    pub state_dir: PathBuf,
}

/// The waits, in real time (before [`TimeScale::compress`]).
pub const API_BACKOFF: Duration = Duration::from_millis(500);
pub const API_PROBE: Backoff = Backoff { base: Duration::from_secs(2), max: Duration::from_secs(5 * 60) };
pub const POLL_BACKOFF: Duration = Duration::from_secs(2);
/// A message waiting for the API is given back after this long: SQS refuses to
/// keep it invisible beyond 12 hours from its receive. Real time, not scaled: it
/// is SQS's limit, not a retry.
pub const MAX_HOLD: Duration = Duration::from_secs(11 * 60 * 60);

fn url(env: &mut Env, name: &str) -> String {
    let value = env.required(name);
    let http = value.starts_with("http://") || value.starts_with("https://");
    if !value.is_empty() && !http {
        env.reject(name, "must be an http(s) URL");
    }
    value.trim_end_matches('/').to_owned()
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::read(Env::from_process())
    }

    pub fn read(mut env: Env) -> Result<Self, ConfigError> {
        let queue_url = env.required("DECISIONS_QUEUE_URL");
        if !queue_url.is_empty() && !queue_url.ends_with(".fifo") {
            env.reject("DECISIONS_QUEUE_URL", "must be the FIFO decisions queue (.fifo)");
        }
        let api_url = url(&mut env, "APPROVAL_API_URL");
        let auth = match env.optional("APPROVAL_API_AUTH").as_deref().unwrap_or("sigv4") {
            "bearer" => ApiAuth::Bearer(env.required("APPROVAL_API_TOKEN")),
            "sigv4" => ApiAuth::SigV4 { region: env.required("AWS_REGION") },
            _ => {
                env.reject("APPROVAL_API_AUTH", "must be bearer or sigv4");
                ApiAuth::Bearer(String::new())
            }
        };
        let executor = match env.required("EXECUTOR").as_str() {
            "log" => ExecutorKind::Log,
            "command" => ExecutorKind::Command {
                program: env.required("EXECUTOR_COMMAND"),
                args: env
                    .optional("EXECUTOR_ARGS")
                    .map(|a| a.split_whitespace().map(str::to_owned).collect())
                    .unwrap_or_default(),
            },
            "webhook" => ExecutorKind::Webhook { url: url(&mut env, "EXECUTOR_WEBHOOK_URL") },
            "" => ExecutorKind::Log,
            _ => {
                env.reject("EXECUTOR", "must be log, command or webhook");
                ExecutorKind::Log
            }
        };
        let secs = |env: &mut Env, name: &str, default: u64| Duration::from_secs(env.parse_or(name, default));
        let time_scale = TimeScale::from_env(&mut env);
        let health_file = env.optional("HEALTH_FILE").filter(|p| !p.is_empty()).map(PathBuf::from);
        // systemd may list several directories (colon-separated): the first is ours.
        let systemd_state = env.optional("STATE_DIRECTORY").and_then(|d| d.split(':').next().map(str::to_owned));
        let state_dir = match env.optional("STATE_DIR").or(systemd_state) {
            Some(dir) => PathBuf::from(dir),
            None => PathBuf::from(env.required("STATE_DIR")),
        };
        let config = Self {
            queue_url,
            api_url,
            auth,
            executor,
            executor_timeout: secs(&mut env, "EXECUTOR_TIMEOUT_SECS", 300),
            visibility: secs(&mut env, "VISIBILITY_TIMEOUT_SECS", 60),
            wait: secs(&mut env, "WAIT_TIME_SECS", 20),
            max_in_flight: env.parse_or("MAX_IN_FLIGHT", 1usize),
            shutdown_grace: secs(&mut env, "SHUTDOWN_GRACE_SECS", 30),
            http_timeout: Duration::from_millis(env.parse_or("HTTP_TIMEOUT_MS", 10_000u64)),
            time_scale,
            api_backoff: time_scale.compress(API_BACKOFF),
            api_probe: Backoff { base: time_scale.compress(API_PROBE.base), max: time_scale.compress(API_PROBE.max) },
            poll_backoff: time_scale.compress(POLL_BACKOFF),
            health_file,
            metrics_namespace: approvals::config::metrics_namespace(&mut env),
            state_dir,
        };
        if config.visibility < Duration::from_secs(2) || config.visibility > Duration::from_secs(43_200) {
            env.reject("VISIBILITY_TIMEOUT_SECS", "must be from 2 to 43200");
        }
        if config.wait > Duration::from_secs(20) {
            env.reject("WAIT_TIME_SECS", "must be from 0 to 20");
        }
        if !(1..=10).contains(&config.max_in_flight) {
            env.reject("MAX_IN_FLIGHT", "must be from 1 to 10");
        }
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

    #[test]
    fn every_missing_and_invalid_variable_is_named() {
        let err = Config::read(env(&[("EXECUTOR", "command"), ("MAX_IN_FLIGHT", "50")])).unwrap_err().to_string();
        for name in
            ["DECISIONS_QUEUE_URL", "APPROVAL_API_URL", "AWS_REGION", "EXECUTOR_COMMAND", "MAX_IN_FLIGHT", "STATE_DIR"]
        {
            assert!(err.contains(name), "{name}: {err}");
        }
        let err = Config::read(env(&[("APPROVAL_API_AUTH", "bearer"), ("EXECUTOR", "log")])).unwrap_err().to_string();
        assert!(err.contains("APPROVAL_API_TOKEN"), "{err}");
    }

    #[test]
    fn the_api_is_called_with_sigv4_unless_told_otherwise() {
        let c = Config::read(env(&[
            ("DECISIONS_QUEUE_URL", "https://sqs.eu-west-2.amazonaws.com/1/approval-decisions.fifo"),
            ("APPROVAL_API_URL", "https://api.example"),
            ("AWS_REGION", "eu-west-2"),
            ("EXECUTOR", "log"),
            ("STATE_DIR", "/var/lib/action-processor"),
        ]))
        .unwrap();
        assert_eq!(c.auth, ApiAuth::SigV4 { region: "eu-west-2".into() });
    }

    #[test]
    fn a_complete_configuration_is_read_and_the_token_never_printed() {
        let c = Config::read(env(&[
            ("DECISIONS_QUEUE_URL", "https://sqs.eu-west-2.amazonaws.com/1/approval-decisions.fifo"),
            ("APPROVAL_API_URL", "https://api.example/"),
            ("APPROVAL_API_AUTH", "bearer"),
            ("APPROVAL_API_TOKEN", "secret-token"),
            ("EXECUTOR", "command"),
            ("EXECUTOR_COMMAND", "/opt/actions/run"),
            ("EXECUTOR_ARGS", "--dry-run  --verbose"),
            ("STATE_DIR", "/var/lib/action-processor"),
        ]))
        .unwrap();
        assert_eq!(c.api_url, "https://api.example");
        assert_eq!(
            c.executor,
            ExecutorKind::Command {
                program: "/opt/actions/run".into(),
                args: vec!["--dry-run".into(), "--verbose".into()]
            }
        );
        assert!(!format!("{c:?}").contains("secret-token"));
    }

    #[test]
    fn every_wait_is_compressed_by_the_retry_time_scale() {
        let base = [
            ("DECISIONS_QUEUE_URL", "https://sqs.eu-west-2.amazonaws.com/1/approval-decisions.fifo"),
            ("APPROVAL_API_URL", "https://api.example"),
            ("AWS_REGION", "eu-west-2"),
            ("EXECUTOR", "log"),
            ("STATE_DIR", "/var/lib/action-processor"),
        ];
        let real = Config::read(env(&base)).unwrap();
        assert_eq!((real.api_backoff, real.api_probe, real.poll_backoff), (API_BACKOFF, API_PROBE, POLL_BACKOFF));
        assert_eq!(real.api_probe.max, Duration::from_secs(300), "a recovered API is used within 5 minutes");
        let fast = Config::read(env(&[base.as_slice(), &[("RETRY_TIME_SCALE", "100")]].concat())).unwrap();
        assert_eq!(fast.api_backoff, Duration::from_millis(5));
        assert_eq!(fast.api_probe, Backoff { base: Duration::from_millis(20), max: Duration::from_secs(3) });
        assert_eq!(fast.poll_backoff, Duration::from_millis(20));
        assert_eq!(fast.visibility, real.visibility, "SQS takes whole seconds: not compressed here");
        let err = Config::read(env(&[base.as_slice(), &[("RETRY_TIME_SCALE", "0.5")]].concat())).unwrap_err();
        assert!(err.to_string().contains("RETRY_TIME_SCALE"), "{err}");
    }

    #[test]
    fn the_state_dir_may_come_from_systemd() {
        let base = [
            ("DECISIONS_QUEUE_URL", "https://sqs.eu-west-2.amazonaws.com/1/approval-decisions.fifo"),
            ("APPROVAL_API_URL", "https://api.example"),
            ("AWS_REGION", "eu-west-2"),
            ("EXECUTOR", "log"),
        ];
        let systemd = [("STATE_DIRECTORY", "/var/lib/action-processor:/var/lib/other")];
        let c = Config::read(env(&[base.as_slice(), &systemd].concat())).unwrap();
        assert_eq!(c.state_dir, PathBuf::from("/var/lib/action-processor"));
        let own = [("STATE_DIR", "/srv/processor"), systemd[0]];
        let c = Config::read(env(&[base.as_slice(), &own].concat())).unwrap();
        assert_eq!(c.state_dir, PathBuf::from("/srv/processor"), "STATE_DIR wins");
    }

    #[test]
    fn a_standard_queue_is_refused() {
        let err = Config::read(env(&[("DECISIONS_QUEUE_URL", "https://q/plain"), ("EXECUTOR", "log")])).unwrap_err();
        assert!(err.to_string().contains("FIFO"), "{err}");
    }
}
