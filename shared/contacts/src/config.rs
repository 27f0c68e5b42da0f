//! Settings the contact functions share, read once at start.

use std::time::Duration;

use kit::config::Env;

/// The variable naming the contacts table (the SQS steps' `StepConfig::table`).
pub const TABLE: &str = "CONTACTS_TABLE_NAME";

/// Every contact function reads the table and the metrics namespace.
pub fn contacts_table(env: &mut Env) -> String {
    env.required(TABLE)
}

pub use kit::config::metrics_namespace;

/// `RECORDING_GRACE_SECONDS` (default 900): how long after a call its recording may
/// still arrive. Connect writes recordings a few minutes after the call; tests set it low.
pub fn recording_grace(env: &mut Env) -> Duration {
    let secs: u64 = env.parse_or("RECORDING_GRACE_SECONDS", 900);
    if secs > 86_400 {
        env.reject("RECORDING_GRACE_SECONDS", "must be at most 86400 (a day)");
    }
    Duration::from_secs(secs)
}

/// `CONNECT_DESCRIBE_RPS` (default 2): DescribeContact calls a second this stack
/// may make. Connect's quota is per account and Region, shared with every other
/// caller; the sweep sizes the poll queue by it and poll-contact paces itself by it.
pub fn describe_rate(env: &mut Env) -> f64 {
    let rps: f64 = env.parse_or("CONNECT_DESCRIBE_RPS", 2.0);
    if !(0.1..=1000.0).contains(&rps) {
        env.reject("CONNECT_DESCRIBE_RPS", "must be between 0.1 and 1000");
    }
    rps
}

/// `POLL_MAX_CONCURRENCY` (default 2): poll-contact's event source's maximum
/// concurrency (the same template parameter): how many instances share the rate.
pub fn poll_concurrency(env: &mut Env) -> u32 {
    let n: u32 = env.parse_or("POLL_MAX_CONCURRENCY", 2);
    if !(1..=1000).contains(&n) {
        env.reject("POLL_MAX_CONCURRENCY", "must be between 1 and 1000");
    }
    n
}

/// `FLOW_LOGS_SILENCE_SECONDS` (default 1800): how long without a flow-log
/// delivery, in business hours, counts as silent.
pub fn flow_logs_silence(env: &mut Env) -> Duration {
    let secs: u64 = env.parse_or("FLOW_LOGS_SILENCE_SECONDS", 1800);
    if secs == 0 || secs > 86_400 {
        env.reject("FLOW_LOGS_SILENCE_SECONDS", "must be between 1 and 86400 (a day)");
    }
    Duration::from_secs(secs)
}
