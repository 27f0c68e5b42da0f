//! An approval request as stored: status, approvers with their token state, the
//! decision, the execution and the history. One DynamoDB item holds it all, so
//! every state change is one conditional write on it.
//!
//! ```text
//! PENDING ─decide─▶ APPROVED ─processor─▶ EXECUTING ─▶ EXECUTED | FAILED
//!         ─decide─▶ REJECTED
//!         ─every approver's address refused by SES─▶ UNDELIVERABLE (final)
//! (a PENDING request past its expiry is shown EXPIRED; nothing is written)
//! ```

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::request::NewRequest;

pub use kit::redrive::Redrive;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    Pending,
    Approved,
    Rejected,
    Executing,
    Executed,
    Failed,
    /// SES refused every approver's address for good: nobody can decide. Final.
    Undeliverable,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "PENDING",
            Status::Approved => "APPROVED",
            Status::Rejected => "REJECTED",
            Status::Executing => "EXECUTING",
            Status::Executed => "EXECUTED",
            Status::Failed => "FAILED",
            Status::Undeliverable => "UNDELIVERABLE",
        }
    }
}

/// What an approver chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Decision {
    Approved,
    Rejected,
}

impl Decision {
    /// The `action` of a link: `approve` or `reject`.
    pub fn from_link(text: &str) -> Option<Self> {
        match text {
            "approve" => Some(Decision::Approved),
            "reject" => Some(Decision::Rejected),
            _ => None,
        }
    }

    pub fn link_word(self) -> &'static str {
        match self {
            Decision::Approved => "approve",
            Decision::Rejected => "reject",
        }
    }

    /// `approved` / `rejected`, for pages and emails.
    pub fn past_tense(self) -> &'static str {
        match self {
            Decision::Approved => "approved",
            Decision::Rejected => "rejected",
        }
    }

    pub fn status(self) -> Status {
        match self {
            Decision::Approved => Status::Approved,
            Decision::Rejected => Status::Rejected,
        }
    }

    pub fn as_str(self) -> &'static str {
        self.status().as_str()
    }
}

/// One approver and the life of their token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approver {
    pub email: String,
    /// SHA-256 (hex) of the token last emailed, or being emailed.
    pub token_hash: Option<String>,
    pub minted_at: Option<DateTime<Utc>>,
    pub emailed_at: Option<DateTime<Utc>>,
    /// Their token made the decision.
    pub used_at: Option<DateTime<Utc>>,
    /// Their token was revoked (another approver decided first).
    pub revoked_at: Option<DateTime<Utc>>,
    /// Told what was decided.
    pub notified_at: Option<DateTime<Utc>>,
    /// SES refused their address for good (malformed, or not verified in the SES
    /// sandbox): never emailed, never tried again.
    pub undeliverable_at: Option<DateTime<Utc>>,
    /// SES's error code for that refusal (never its message: it may quote the address).
    pub undeliverable_reason: Option<String>,
}

impl Approver {
    pub fn new(email: String) -> Self {
        Self {
            email,
            token_hash: None,
            minted_at: None,
            emailed_at: None,
            used_at: None,
            revoked_at: None,
            notified_at: None,
            undeliverable_at: None,
            undeliverable_reason: None,
        }
    }

    /// Emailed, or refused for good: the email step has nothing left to do for them.
    pub fn email_settled(&self) -> bool {
        self.emailed_at.is_some() || self.undeliverable_at.is_some()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionRecord {
    pub decision: Decision,
    pub decided_at: DateTime<Utc>,
    /// Index of the approver whose token decided.
    pub decided_by: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Execution {
    /// The processor's attempt that recorded EXECUTING.
    pub attempt_id: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// What the executor reported (truncated), on EXECUTED or FAILED.
    pub output: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub at: DateTime<Utc>,
    pub event: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl HistoryEntry {
    pub fn new(at: DateTime<Utc>, event: &str, detail: Option<String>) -> Self {
        Self { at, event: event.to_owned(), detail }
    }
}

/// Which announcement the sweep re-publishes if its step has not confirmed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OutboxEvent {
    #[serde(rename = "approval.requested")]
    Requested,
    #[serde(rename = "approval.decided")]
    Decided,
}

impl OutboxEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxEvent::Requested => "approval.requested",
            OutboxEvent::Decided => "approval.decided",
        }
    }
}

/// What a request waits for from the pipeline (not from a person): the sparse
/// `awaiting` index the stuck check reads (`stuck` crate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AwaitedStep {
    /// `send-approval-emails` (the `approval.requested` announcement unconfirmed).
    Emails,
    /// `enqueue-decision` (the `approval.decided` announcement unconfirmed).
    Enqueue,
    /// The on-prem processor to take the decision off the FIFO queue.
    Processor,
    /// The on-prem processor to report how the action ended.
    Execution,
}

impl AwaitedStep {
    pub const ALL: [AwaitedStep; 4] =
        [AwaitedStep::Emails, AwaitedStep::Enqueue, AwaitedStep::Processor, AwaitedStep::Execution];

    pub fn as_str(self) -> &'static str {
        match self {
            AwaitedStep::Emails => "emails",
            AwaitedStep::Enqueue => "enqueue",
            AwaitedStep::Processor => "processor",
            AwaitedStep::Execution => "execution",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// The wait and since when. For an announcement, `since` is its *first* due time:
/// the sweep moves `outbox_due` on by every re-publish, this stays, so a request
/// whose emails fail every five minutes for days still ages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Awaiting {
    pub step: AwaitedStep,
    pub since: DateTime<Utc>,
}

impl OutboxEvent {
    /// The step whose confirmation the announcement waits for.
    pub fn awaited(self) -> AwaitedStep {
        match self {
            OutboxEvent::Requested => AwaitedStep::Emails,
            OutboxEvent::Decided => AwaitedStep::Enqueue,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ApprovalRequest {
    pub request_id: String,
    pub issue_id: String,
    pub action: String,
    pub action_parameters: Value,
    pub status: Status,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub reveal_approver: bool,
    pub content_hash: String,
    pub approvers: Vec<Approver>,
    pub decision: Option<DecisionRecord>,
    pub decision_enqueued_at: Option<DateTime<Utc>>,
    pub emails_sent_at: Option<DateTime<Utc>>,
    pub approvers_notified_at: Option<DateTime<Utc>>,
    pub execution: Option<Execution>,
    pub rejection_recorded_at: Option<DateTime<Utc>>,
    pub outbox: Option<OutboxEvent>,
    /// Set with the first announcement (by the store, from its due time).
    pub awaiting: Option<Awaiting>,
    pub history: Vec<HistoryEntry>,
    /// Operators' redrives, oldest first.
    pub redrives: Vec<Redrive>,
}

impl ApprovalRequest {
    /// The request as first stored: PENDING, no tokens yet (the email step mints them).
    pub fn new(req: &NewRequest) -> Self {
        Self {
            request_id: req.request_id.as_str().to_owned(),
            issue_id: req.issue_id.clone(),
            action: req.action.clone(),
            action_parameters: req.action_parameters.clone(),
            status: Status::Pending,
            created_at: req.created_at,
            expires_at: req.expires_at,
            reveal_approver: req.reveal_approver,
            content_hash: req.content_hash.clone(),
            approvers: req.approvers.iter().cloned().map(Approver::new).collect(),
            decision: None,
            decision_enqueued_at: None,
            emails_sent_at: None,
            approvers_notified_at: None,
            execution: None,
            rejection_recorded_at: None,
            outbox: Some(OutboxEvent::Requested),
            awaiting: None,
            history: vec![HistoryEntry::new(
                req.created_at,
                "requested",
                Some(format!("{} approver(s)", req.approvers.len())),
            )],
            redrives: Vec::new(),
        }
    }

    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        now >= self.expires_at
    }

    /// Who decided, if the request allows saying so.
    pub fn decider_if_revealed(&self) -> Option<&str> {
        let d = self.decision.as_ref()?;
        self.reveal_approver.then(|| self.approvers.get(d.decided_by).map(|a| a.email.as_str())).flatten()
    }
}
