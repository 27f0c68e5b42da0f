//! `workflow.action`: the one event the workflow API publishes per accepted action,
//! carrying everything the audit record and the notifications need.

use chrono::{DateTime, Utc};
use kit::Message;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::roles::Role;
use crate::workflow::{ActionKind, WorkflowState};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkflowAction {
    pub workflow_id: String,
    /// 1 for the creating save, then one more per accepted action.
    pub seq: u64,
    pub scheme: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub owner: String,
    pub approvers: Vec<String>,
    pub action: ActionKind,
    pub actor: String,
    pub actor_roles: Vec<Role>,
    /// `None` for the save that created the workflow.
    pub from_state: Option<WorkflowState>,
    pub to_state: WorkflowState,
    pub step_id: String,
    /// When the API accepted it (whole microseconds).
    pub at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// What the action submitted (save and request only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

impl Message for WorkflowAction {
    const TYPE: &'static str = "workflow.action";
    const VERSION: u32 = 1;
}

/// `workflow.announce`: announce a workflow's accepted but unannounced action again
/// (an operator's redrive, `ops workflow redrive` → announce-workflow, the only
/// other writer of the workflows table). Ids only: the event is the stored one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnnounceAgain {
    pub workflow_id: String,
    /// The action found unannounced (the stored one is announced, whatever it is).
    pub seq: u64,
    /// Who asked, and when: recorded on the workflow with the announcement.
    pub requested_by: String,
    pub requested_at: DateTime<Utc>,
}

impl Message for AnnounceAgain {
    const TYPE: &'static str = "workflow.announce";
    const VERSION: u32 = 1;
}

/// Deterministic per (workflow, seq): a re-announcement is the same message.
pub fn event_id(workflow_id: &str, seq: u64) -> String {
    format!("{}:{workflow_id}:{seq}", WorkflowAction::TYPE)
}
