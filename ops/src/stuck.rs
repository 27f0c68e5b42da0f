//! `ops stuck`: workflows not finished in time. Each system answers from an index
//! of its unfinished workflows (no scans); the scheduled `stuck-detector` function
//! runs the same check in AWS and emits a metric the `stuck` alarm watches.

use reports::dynamo::DynamoReportStore;

use crate::workflow::{report_timeline, Timeline};

/// At most this many stuck workflows are listed per system.
pub const LIMIT: usize = 1000;

pub async fn stuck_reports(
    store: &DynamoReportStore,
    older_than: std::time::Duration,
) -> anyhow::Result<Vec<Timeline>> {
    let cutoff = chrono::Utc::now() - chrono::Duration::from_std(older_than)?;
    Ok(store.open_before(cutoff, LIMIT).await?.iter().map(report_timeline).collect())
}
