//! Step 1: mark the events and create the report, or reject it.

use chrono::{DateTime, Utc};
use kit::batch::Outcome;
use kit::publisher::EventPublisher;
use tracing::{info, warn};

use super::publish;
use crate::messages::ReportRequested;
use crate::ports::{MarkOutcome, ReportStore};
use crate::report::{Report, ReportStatus};
use crate::request::{ReportRequest, ReportSubmission};
use crate::ReportError;

/// What step 1 decided, for the caller's log and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marked {
    Requested,
    Rejected,
    /// A redelivery: the report existed; its event was published again if it goes on.
    AlreadyKnown,
}

impl From<Marked> for Outcome {
    fn from(m: Marked) -> Self {
        match m {
            Marked::AlreadyKnown => Outcome::Duplicate,
            _ => Outcome::Done,
        }
    }
}

pub async fn mark_reported<S: ReportStore, P: EventPublisher>(
    store: &S,
    publisher: &P,
    submission: ReportSubmission,
    correlation_id: &str,
    now: DateTime<Utc>,
) -> Result<Marked, ReportError> {
    let req = ReportRequest::parse(submission)?;
    match store.mark_reported(&req, correlation_id, now).await? {
        MarkOutcome::Marked => {
            info!(report_id = %req.report_id, events = req.event_ids.len(), "report requested");
            publish(publisher, req.report_id, correlation_id, ReportRequested { report: req }).await?;
            Ok(Marked::Requested)
        }
        MarkOutcome::Existing(existing) => {
            same_report(&existing, &req)?;
            // Published again unless rejected: the first attempt may have crashed
            // between its write and its publish. Later steps dedupe.
            if existing.status != ReportStatus::Rejected {
                publish(publisher, req.report_id, correlation_id, ReportRequested { report: req }).await?;
            }
            Ok(Marked::AlreadyKnown)
        }
        MarkOutcome::Conflicts(conflicts) => {
            let reason = conflicts.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
            match store.reject(&req, &reason, now).await? {
                None => {
                    warn!(report_id = %req.report_id, reason = %reason, "report rejected");
                    Ok(Marked::Rejected)
                }
                Some(existing) => {
                    same_report(&existing, &req)?;
                    Ok(Marked::AlreadyKnown)
                }
            }
        }
    }
}

/// A report id names one report: the same id with other content is refused.
fn same_report(existing: &Report, req: &ReportRequest) -> Result<(), ReportError> {
    if existing.content_hash.as_deref() == Some(req.content_hash().as_str()) {
        Ok(())
    } else {
        Err(ReportError::ReportIdReused { report_id: req.report_id.to_string() })
    }
}
