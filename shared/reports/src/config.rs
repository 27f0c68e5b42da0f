//! Settings the report steps share. What every step reads (table, DLQ, metrics,
//! runner) is the kit's `StepConfig`, whose table is the reports table; the report
//! marks live on the activity table's event items, named here too.

use std::time::Duration;

use kit::config::Env;

/// The variable naming the reports table (each step's `StepConfig::table`).
pub const TABLE: &str = "REPORTS_TABLE_NAME";

/// The activity table, where the events a report names are marked.
pub fn activity_table(env: &mut Env) -> String {
    env.required("ACTIVITY_TABLE_NAME")
}

/// Third-party calls give up after this long (`HTTP_TIMEOUT_MS`, default 5 s): well
/// inside the function timeout, so the runner always gets to settle the record.
pub fn http_timeout(env: &mut Env) -> Duration {
    Duration::from_millis(env.parse_or("HTTP_TIMEOUT_MS", 5000u64))
}
