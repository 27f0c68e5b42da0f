//! What `GET /approval-requests/{id}` shows the on-prem service: status, decision,
//! execution and history. No tokens, no hashes, and no approver addresses (the
//! decider only if the request allows it).

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::rules::shown_status;
use crate::state::{ApprovalRequest, HistoryEntry};

#[derive(Debug, Clone, Serialize)]
pub struct RequestView {
    pub request_id: String,
    pub issue_id: String,
    pub action: String,
    pub action_parameters: Value,
    /// PENDING, EXPIRED, APPROVED, REJECTED, EXECUTING, EXECUTED, FAILED or
    /// UNDELIVERABLE (SES refused every approver: final, nobody can decide).
    pub status: &'static str,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub approvers: ApproverCounts,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision: Option<DecisionView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision_enqueued_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub execution: Option<ExecutionView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejection_recorded_at: Option<DateTime<Utc>>,
    pub history: Vec<HistoryEntry>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ApproverCounts {
    pub total: usize,
    pub emailed: usize,
    /// Whose address SES refused for good: never emailed, never tried again.
    pub undeliverable: usize,
    pub revoked: usize,
    pub notified: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct DecisionView {
    pub decision: &'static str,
    pub decided_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExecutionView {
    pub attempt_id: String,
    pub started_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
}

impl RequestView {
    pub fn of(req: &ApprovalRequest, now: DateTime<Utc>) -> Self {
        let count = |f: fn(&crate::state::Approver) -> bool| req.approvers.iter().filter(|a| f(a)).count();
        Self {
            request_id: req.request_id.clone(),
            issue_id: req.issue_id.clone(),
            action: req.action.clone(),
            action_parameters: req.action_parameters.clone(),
            status: shown_status(req, now),
            created_at: req.created_at,
            expires_at: req.expires_at,
            approvers: ApproverCounts {
                total: req.approvers.len(),
                emailed: count(|a| a.emailed_at.is_some()),
                undeliverable: count(|a| a.undeliverable_at.is_some()),
                revoked: count(|a| a.revoked_at.is_some()),
                notified: count(|a| a.notified_at.is_some()),
            },
            decision: req.decision.as_ref().map(|d| DecisionView {
                decision: d.decision.as_str(),
                decided_at: d.decided_at,
                decided_by: req.decider_if_revealed().map(str::to_owned),
            }),
            decision_enqueued_at: req.decision_enqueued_at,
            execution: req.execution.as_ref().map(|e| ExecutionView {
                attempt_id: e.attempt_id.clone(),
                started_at: e.started_at,
                finished_at: e.finished_at,
                output: e.output.clone(),
            }),
            rejection_recorded_at: req.rejection_recorded_at,
            history: req.history.clone(),
        }
    }
}
