//! The sweep (every minute): re-publishes the announcements whose consuming step
//! has not confirmed them by their due time — an API that crashed between its
//! write and its publish, or a publish that failed. The steps are idempotent, so
//! a re-publish of something already handled is a no-op.

use chrono::{DateTime, Duration, Utc};
use kit::error::chain;
use kit::publisher::EventPublisher;
use tracing::{info, warn};

use crate::messages::{envelope, ApprovalDecided, ApprovalRequested};
use crate::ports::{Outbox, RequestStore};
use crate::state::{OutboxEvent, Status};
use crate::ApprovalError;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SweepReport {
    pub republished: usize,
    /// Entries no longer needed (the request moved on): removed.
    pub cleared: usize,
    /// Publishes that failed (tried again at the next sweep).
    pub failed: usize,
}

pub async fn sweep<S: RequestStore + Outbox, P: EventPublisher>(
    store: &S,
    publisher: &P,
    now: DateTime<Utc>,
    retry_after: Duration,
    limit: usize,
) -> Result<SweepReport, ApprovalError> {
    let mut report = SweepReport::default();
    for (id, event) in store.due(now, limit).await? {
        let Some(req) = store.get(&id).await? else {
            continue;
        };
        // The request id is the only correlation the item keeps.
        let result = match (event, &req.decision) {
            (OutboxEvent::Requested, None)
                if req.status == Status::Pending && req.emails_sent_at.is_none() && !req.is_expired(now) =>
            {
                Some(publisher.publish(&envelope(&id, &id, ApprovalRequested { request_id: id.clone() })).await)
            }
            (OutboxEvent::Decided, Some(d)) if req.decision_enqueued_at.is_none() => {
                let payload = ApprovalDecided { request_id: id.clone(), decision: d.decision };
                Some(publisher.publish(&envelope(&id, &id, payload)).await)
            }
            _ => None,
        };
        match result {
            None => {
                store.clear(&id, event).await?;
                report.cleared += 1;
            }
            Some(Ok(())) => {
                store.postpone(&id, event, now + retry_after).await?;
                info!(request_id = %id, event = event.as_str(), "announcement re-published by the sweep");
                report.republished += 1;
            }
            Some(Err(e)) => {
                warn!(request_id = %id, event = event.as_str(), error = %chain(&e), "re-publish failed");
                report.failed += 1;
            }
        }
    }
    Ok(report)
}
