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
