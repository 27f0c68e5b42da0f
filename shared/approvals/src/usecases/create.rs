//! `POST /approval-requests`: store the request PENDING, then announce it.

use chrono::{DateTime, Duration, Utc};
use kit::publisher::EventPublisher;
use tracing::info;

use super::announce;
use crate::messages::ApprovalRequested;
use crate::ports::{Created, RequestStore};
use crate::request::{NewRequest, Submission};
use crate::state::{ApprovalRequest, Status};
use crate::ApprovalError;

#[derive(Debug, Clone, PartialEq)]
pub struct CreateOutcome {
    pub request: ApprovalRequest,
    /// False when this was a retry of a request stored earlier (same id, same content).
    pub created: bool,
}

/// Stores the request and announces `approval.requested`. A retry with the same
/// `request_id` and content answers the stored request (and announces it again while
/// its emails are still to go, in case the first announcement was lost); the same id
/// with other content is refused.
pub async fn create_request<S: RequestStore, P: EventPublisher>(
    store: &S,
    publisher: &P,
    submission: Submission,
    correlation_id: &str,
    now: DateTime<Utc>,
    outbox_delay: Duration,
) -> Result<CreateOutcome, ApprovalError> {
    let new = NewRequest::parse(submission, now)?;
    let request = ApprovalRequest::new(&new);
    let id = request.request_id.clone();
    match store.create(&request, now + outbox_delay).await? {
        Created::New => {
            info!(request_id = %id, approvers = request.approvers.len(), "approval request stored");
            announce(publisher, &id, correlation_id, ApprovalRequested { request_id: id.clone() }).await;
            Ok(CreateOutcome { request, created: true })
        }
        Created::Existing(existing) => {
            if existing.content_hash != request.content_hash {
                return Err(ApprovalError::RequestIdReused { request_id: id });
            }
            if existing.status == Status::Pending && existing.emails_sent_at.is_none() && !existing.is_expired(now) {
                announce(publisher, &id, correlation_id, ApprovalRequested { request_id: id.clone() }).await;
            }
            info!(request_id = %id, "approval request retried; answered with the stored one");
            Ok(CreateOutcome { request: *existing, created: false })
        }
    }
}
