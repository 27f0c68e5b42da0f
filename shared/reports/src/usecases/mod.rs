//! The four steps' logic, over the ports: testable without AWS or HTTP.

mod effect;
mod mark;
mod ticket;

pub use effect::{send_email, send_txma, EffectContext};
pub use mark::{mark_reported, Marked};
pub use ticket::create_ticket;

#[cfg(test)]
mod tests;

use crate::messages::message_id;
use kit::publisher::EventPublisher;
use kit::{Envelope, Message};

/// Publishes `payload` for the report with its deterministic message id.
async fn publish<P: EventPublisher, M: Message>(
    publisher: &P,
    report_id: uuid::Uuid,
    correlation_id: &str,
    payload: M,
) -> Result<(), crate::ReportError> {
    let env = Envelope::new(report_id.to_string(), correlation_id, payload).with_id(message_id(M::TYPE, &report_id));
    publisher.publish(&env).await?;
    Ok(())
}

/// For the steps after the first: a dead-lettered record shows on its report as
/// FAILED with the reason, until a redrive moves the report on.
pub async fn record_dead_letter<S: crate::ports::ReportStore>(
    store: &S,
    ctx: &kit::batch::RecordContext,
    notice: &kit::batch::DeadLetterNotice,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), crate::ReportError> {
    let Some(report_id) = ctx.workflow_id.as_deref().and_then(|w| uuid::Uuid::parse_str(w).ok()) else {
        return Ok(());
    };
    let failure = crate::report::Failure {
        step: ctx.step.to_string(),
        kind: notice.kind.clone(),
        reason: notice.reason.clone(),
        at: now,
    };
    store.mark_failed(&report_id, &failure).await?;
    Ok(())
}
