//! The workflow's logic over the ports: testable without AWS.
//!
//! ```text
//! POST /approval-requests ─▶ create ─▶ (approval.requested) ─▶ send-approval-emails (mints tokens, SES)
//! GET  /approvals/{id}    ─▶ inspect_link (read only: a confirmation page)
//! POST /approvals/{id}    ─▶ decide (one conditional write) ─▶ (approval.decided) ─┬▶ enqueue-decision ─▶ FIFO
//!                                                                                 └▶ notify-approvers (SES)
//! POST /approval-requests/{id}/execution ─▶ begin / finish / record_rejection (the on-prem processor)
//! every minute ─▶ sweep: re-publishes announcements their step has not confirmed
//! ```

mod create;
mod effects;
mod execution;
mod link;
mod sweep;

pub use create::{create_request, CreateOutcome};
pub use effects::{enqueue_decision, notify_approvers, send_approval_emails, EffectContext};
pub use execution::{begin_execution, finish_execution, record_rejection, BeginAnswer, FinishAnswer, RejectionAnswer};
pub use link::{decide, inspect_link, DecideAnswer, LinkAnswer, LinkRequest, Refusal};
pub use sweep::{sweep, SweepReport};

#[cfg(test)]
mod tests;

use kit::publisher::EventPublisher;
use kit::Message;
use tracing::warn;

use crate::messages::envelope;

/// Publishes an announcement after its state change is durable. A failure is only
/// logged: the state change wrote an outbox entry, so the sweep publishes it later.
async fn announce<P: EventPublisher, M: Message>(publisher: &P, request_id: &str, correlation_id: &str, payload: M) {
    let env = envelope(request_id, correlation_id, payload);
    if let Err(e) = publisher.publish(&env).await {
        warn!(request_id, event = M::TYPE, error = %kit::error::chain(&e), "announcement not published; the sweep will repeat it");
    }
}
