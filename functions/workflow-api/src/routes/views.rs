//! What the API shows: stored JSON parsed back, internal fields left out.

use ::audit::record::AuditRecord;
use ::audit::time::render;
use ::audit::{Notification, Workflow};
use serde::Serialize;
use serde_json::Value;

fn parsed(json: Option<&str>) -> Value {
    json.and_then(|d| serde_json::from_str(d).ok()).unwrap_or(Value::Null)
}

#[derive(Serialize)]
pub struct WorkflowView {
    workflow_id: String,
    scheme: String,
    title: Option<String>,
    owner: String,
    approvers: Vec<String>,
    state: &'static str,
    /// Accepted actions so far (the last audit record's seq).
    seq: u64,
    data: Value,
    created_at: String,
    updated_at: String,
}

impl From<&Workflow> for WorkflowView {
    fn from(w: &Workflow) -> Self {
        Self {
            workflow_id: w.workflow_id.clone(),
            scheme: w.scheme.clone(),
            title: w.title.clone(),
            owner: w.owner.clone(),
            approvers: w.approvers.clone(),
            state: w.state.as_str(),
            seq: w.seq,
            data: parsed(w.data.as_deref()),
            created_at: render(w.created_at),
            updated_at: render(w.updated_at),
        }
    }
}

#[derive(Serialize)]
pub struct RecordView {
    dataset_id: String,
    workflow_id: String,
    seq: u64,
    scheme: String,
    step_id: String,
    action: String,
    actor: String,
    actor_roles: Vec<String>,
    owner: String,
    approvers: Vec<String>,
    from_state: Option<String>,
    to_state: String,
    at: String,
    title: Option<String>,
    comment: Option<String>,
    data: Value,
    event_id: String,
    prev_hash: String,
    hash: String,
    /// The KMS key that signed `hash`, and its signature (DER, base64).
    signing_key: String,
    signature: String,
    recorded_at: String,
    correlation_id: String,
}

impl From<AuditRecord> for RecordView {
    fn from(r: AuditRecord) -> Self {
        Self {
            data: r.data_value(),
            dataset_id: r.dataset_id,
            workflow_id: r.workflow_id,
            seq: r.seq,
            scheme: r.scheme,
            step_id: r.step_id,
            action: r.action,
            actor: r.actor,
            actor_roles: r.actor_roles,
            owner: r.owner,
            approvers: r.approvers,
            from_state: r.from_state,
            to_state: r.to_state,
            at: r.at,
            title: r.title,
            comment: r.comment,
            event_id: r.event_id,
            prev_hash: r.prev_hash,
            hash: r.hash,
            signing_key: r.signing_key,
            signature: r.signature,
            recorded_at: r.recorded_at,
            correlation_id: r.correlation_id,
        }
    }
}

#[derive(Serialize)]
pub struct NotificationView {
    notification_id: String,
    workflow_id: String,
    seq: u64,
    action: String,
    actor: String,
    scheme: String,
    title: Option<String>,
    comment: Option<String>,
    message: String,
    created_at: String,
    read: bool,
    read_at: Option<String>,
}

impl From<Notification> for NotificationView {
    fn from(n: Notification) -> Self {
        Self {
            read: n.read_at.is_some(),
            notification_id: n.notification_id,
            workflow_id: n.workflow_id,
            seq: n.seq,
            action: n.action,
            actor: n.actor,
            scheme: n.scheme,
            title: n.title,
            comment: n.comment,
            message: n.message,
            created_at: n.created_at,
            read_at: n.read_at,
        }
    }
}
