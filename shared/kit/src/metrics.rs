//! CloudWatch metrics in the Embedded Metric Format, through `metrics_cloudwatch_embedded`:
//! one JSON document on stdout per invocation, which CloudWatch Logs turns into metrics
//! (no PutMetricData calls, no added latency).

use std::sync::OnceLock;

use tracing::warn;

static COLLECTOR: OnceLock<&'static metrics_cloudwatch_embedded::Collector> = OnceLock::new();

/// Metric names, in one place (alarms in the template use the same).
pub mod names {
    /// Records handed to the runner.
    pub const RECORDS_RECEIVED: &str = "RecordsReceived";
    /// Records whose side effect happened now.
    pub const RECORDS_PROCESSED: &str = "RecordsProcessed";
    /// Records left to retry.
    pub const RECORDS_FAILED: &str = "RecordsFailed";
    /// Records sent to the DLQ.
    pub const RECORDS_DEAD_LETTERED: &str = "RecordsDeadLettered";
    /// Redeliveries found already done.
    pub const DUPLICATES_SKIPPED: &str = "DuplicatesSkipped";
    /// Cold starts of the function.
    pub const COLD_START: &str = "ColdStart";
    /// Workflows not finished in time, per check (the `stuck` alarm watches it).
    pub const STUCK_WORKFLOWS: &str = "StuckWorkflows";
    /// Retryable failures blamed on an outside dependency, with a `dependency`
    /// dimension: the dependency-outage alarms watch it.
    pub const DEPENDENCY_FAILURES: &str = "DependencyFailures";
}

/// Installs the EMF recorder with a `function` dimension and counts the cold start.
/// Idempotent; an error is logged, never fatal: metrics must not stop the work.
pub fn init(namespace: &str, function: &str) {
    if COLLECTOR.get().is_some() {
        return;
    }
    match metrics_cloudwatch_embedded::Builder::new()
        .cloudwatch_namespace(namespace.to_owned())
        .with_dimension("function", function.to_owned())
        .init()
    {
        Ok(collector) => {
            let _ = COLLECTOR.set(collector);
            metrics::counter!(names::COLD_START).increment(1);
        }
        Err(e) => warn!(error = %e, "metrics recorder not installed"),
    }
}

/// Writes the metrics gathered since the last flush (call once per invocation).
pub fn flush() {
    flush_to(std::io::stdout());
}

/// [`flush`] to another writer (benches measure the cost without the output).
pub fn flush_to<W: std::io::Write>(writer: W) {
    if let Some(collector) = COLLECTOR.get() {
        if let Err(e) = collector.flush(writer) {
            warn!(error = %e, "could not write metrics");
        }
    }
}

/// Counts `n` records received.
pub fn batch_received(n: usize) {
    metrics::counter!(names::RECORDS_RECEIVED).increment(n as u64);
}
/// Counts a record handled now.
pub fn record_processed() {
    metrics::counter!(names::RECORDS_PROCESSED).increment(1);
}
/// Counts a redelivery found done.
pub fn duplicate_skipped() {
    metrics::counter!(names::DUPLICATES_SKIPPED).increment(1);
}
/// `kind` goes to the log line, not a dimension: error kinds are unbounded.
pub fn record_failed(_kind: &str) {
    metrics::counter!(names::RECORDS_FAILED).increment(1);
}
/// Counts a dead letter.
pub fn record_dead_lettered(_kind: &str) {
    metrics::counter!(names::RECORDS_DEAD_LETTERED).increment(1);
}

/// A record that will wait for `dependency` (a small fixed set: a safe dimension).
pub fn dependency_failed(dependency: &'static str) {
    metrics::counter!(names::DEPENDENCY_FAILURES, "dependency" => dependency).increment(1);
}

/// How many workflows a stuck check found (a gauge: the latest check counts).
pub fn stuck_workflows(n: usize) {
    metrics::gauge!(names::STUCK_WORKFLOWS).set(n as f64);
}
