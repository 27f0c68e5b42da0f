//! The detector's metric: `StuckWorkflows` per kind (EMF dimension `kind`), which
//! the template's `StuckWorkflows{Kind}Alarm`s page on. A kind that could not be
//! read emits nothing, so its alarm sees missing data and pages (as a dead
//! detector does).

use crate::check::Check;

pub use kit::metrics::names::STUCK_WORKFLOWS;

/// The dimension.
pub const KIND: &str = "kind";

/// A histogram, not a gauge: the recorder writes a gauge's last value on every
/// flush, so a kind read by the previous run and failing in this one would still
/// show its old count; a histogram holds only what this run recorded.
pub fn emit(check: &Check) {
    for (kind, found) in &check.findings {
        metrics::histogram!(STUCK_WORKFLOWS, KIND => kind.as_str()).record(found.len() as f64);
    }
}
