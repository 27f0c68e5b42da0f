//! What the approval workflow says between its parts, in kit envelopes.
//!
//! None carries a token or an address: each step reads what it needs from the
//! request item, so the topics, queues and DLQs hold only ids.

use chrono::{DateTime, Utc};
use kit::{Envelope, Message};
use serde::{Deserialize, Serialize};

use crate::state::Decision;

/// `approval.requested`: a PENDING request exists; its approvers need their links.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalRequested {
    pub request_id: String,
}

impl Message for ApprovalRequested {
    const TYPE: &'static str = "approval.requested";
    const VERSION: u32 = 1;
}

/// `approval.decided`: the first valid decision is durable; the on-prem queue and
/// the other approvers need to hear of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalDecided {
    pub request_id: String,
    pub decision: Decision,
}

impl Message for ApprovalDecided {
    const TYPE: &'static str = "approval.decided";
    const VERSION: u32 = 1;
}

/// `approval.decision`: the message on the FIFO queue `approval-decisions.fifo`
/// that the on-prem action processor consumes. The processor executes what the API
/// returns when it records EXECUTING, never what a message says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionMade {
    pub request_id: String,
    pub decision: Decision,
    pub decided_at: DateTime<Utc>,
}

impl Message for DecisionMade {
    const TYPE: &'static str = "approval.decision";
    const VERSION: u32 = 1;
}

/// The same (event, request) always has the same message id, so a re-publish (a
/// redelivery, the sweep) is recognisably the same event.
pub fn message_id(kind: &str, request_id: &str) -> String {
    format!("{kind}:{request_id}")
}

/// An envelope for `payload` about `request_id`, with its deterministic id.
pub fn envelope<M: Message>(request_id: &str, correlation_id: &str, payload: M) -> Envelope<M> {
    Envelope::new(request_id, correlation_id, payload).with_id(message_id(M::TYPE, request_id))
}
