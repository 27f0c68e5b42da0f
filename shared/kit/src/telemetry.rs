//! One telemetry set-up for every function: structured logs in the format and at the
//! level Lambda's advanced logging controls ask for.
//!
//! * `AWS_LAMBDA_LOG_FORMAT`: `JSON` (default here) or `Text`.
//! * `AWS_LAMBDA_LOG_LEVEL` (`TRACE`…`FATAL`), else `RUST_LOG`, else `info`.
//!
//! In JSON each line carries the fields of the spans it was logged in, so the batch
//! runner's `record` span puts `correlation_id` and `message_id` on every line a step
//! logs. Never log a whole event, a token or an email address: log ids.

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object a line (the default).
    Json,
    /// Human-readable text.
    Text,
}

/// Reads the log format from the value of `AWS_LAMBDA_LOG_FORMAT`.
pub fn log_format(value: Option<&str>) -> LogFormat {
    match value.map(str::to_ascii_lowercase).as_deref() {
        Some("text") => LogFormat::Text,
        _ => LogFormat::Json,
    }
}

/// The filter directive from `AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG`, else `info`.
pub fn filter_directive(lambda_level: Option<&str>, rust_log: Option<&str>) -> String {
    if let Some(level) = lambda_level.filter(|l| !l.is_empty()) {
        // Lambda's FATAL has no tracing equivalent: ERROR is the closest.
        return match level.to_ascii_lowercase().as_str() {
            "fatal" => "error".to_owned(),
            other => other.to_owned(),
        };
    }
    rust_log.filter(|l| !l.is_empty()).unwrap_or("info").to_owned()
}

/// The most the Lambda runtime may log (its TRACE lines hold whole events).
pub const RUNTIME_CAP: &str = "lambda_runtime=debug";

/// Installs the global subscriber writing to stdout (what Lambda ships to CloudWatch).
pub fn init() {
    init_with_writer(std::io::stdout);
}

/// Installs the global subscriber writing to `writer` (tests capture logs with it).
/// Does nothing if a subscriber is already installed.
pub fn init_with_writer<W>(writer: W)
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let env = |k: &str| std::env::var(k).ok();
    let directive = filter_directive(env("AWS_LAMBDA_LOG_LEVEL").as_deref(), env("RUST_LOG").as_deref());
    let mut filter = EnvFilter::try_new(&directive).unwrap_or_else(|_| EnvFilter::new("info"));
    // At TRACE the runtime logs every raw event (an approval link's token, a report's
    // email address): whatever level is asked for, it stops at DEBUG.
    if let Ok(cap) = RUNTIME_CAP.parse() {
        filter = filter.add_directive(cap);
    }
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer).with_target(false);
    let result = match log_format(env("AWS_LAMBDA_LOG_FORMAT").as_deref()) {
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(false).with_span_list(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
    // An already-installed subscriber (tests) is fine.
    drop(result);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_level_wins_over_rust_log() {
        assert_eq!(filter_directive(Some("DEBUG"), Some("warn")), "debug");
        assert_eq!(filter_directive(Some("FATAL"), None), "error");
        assert_eq!(filter_directive(None, Some("warn,kit=debug")), "warn,kit=debug");
        assert_eq!(filter_directive(None, None), "info");
    }

    #[test]
    fn the_runtime_cap_is_a_valid_directive() {
        assert!(RUNTIME_CAP.parse::<tracing_subscriber::filter::Directive>().is_ok());
    }

    #[test]
    fn format_defaults_to_json() {
        assert_eq!(log_format(None), LogFormat::Json);
        assert_eq!(log_format(Some("JSON")), LogFormat::Json);
        assert_eq!(log_format(Some("Text")), LogFormat::Text);
    }
}
