//! The report item: the workflow's state, as stored and as the API shows it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The report's life cycle. REQUESTED → TICKET_CREATED → COMPLETED on the happy
/// path; REJECTED when its events cannot be reported; FAILED while a step's record
/// sits in a DLQ (a redrive moves it on again).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReportStatus {
    Requested,
    TicketCreated,
    Completed,
    Rejected,
    Failed,
}

impl ReportStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReportStatus::Requested => "REQUESTED",
            ReportStatus::TicketCreated => "TICKET_CREATED",
            ReportStatus::Completed => "COMPLETED",
            ReportStatus::Rejected => "REJECTED",
            ReportStatus::Failed => "FAILED",
        }
    }
}

/// The side effects that run after the ticket, in parallel, each guarded by a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Txma,
    Email,
}

impl Effect {
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Txma => "txma",
            Effect::Email => "email",
        }
    }
}

/// Why a step's record went to a DLQ, shown on the report until a redrive succeeds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub step: String,
    pub kind: String,
    pub reason: String,
    pub at: DateTime<Utc>,
}

/// A report as stored (claims and hashes aside).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub report_id: String,
    pub user_id: String,
    pub status: ReportStatus,
    pub event_ids: Vec<String>,
    /// When the user reported (the frontend's clock).
    pub reported_at: DateTime<Utc>,
    /// When mark-reported recorded it (or rejected it).
    pub requested_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_id: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_created_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub txma_event_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub txma_sent_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_sent_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejection_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
    /// The correlation id of the request that started it (reports marked before
    /// issue 15 have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    /// Operators' redrives (`ops workflow redrive`), oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redrives: Vec<kit::redrive::Redrive>,
}

impl Report {
    /// The fan-in rule: every id present and not yet completed.
    pub fn ready_to_complete(&self) -> bool {
        self.status != ReportStatus::Completed
            && self.status != ReportStatus::Rejected
            && self.ticket_id.is_some()
            && self.txma_event_id.is_some()
            && self.notification_id.is_some()
    }

    pub fn effect_id(&self, effect: Effect) -> Option<&str> {
        match effect {
            Effect::Txma => self.txma_event_id.as_deref(),
            Effect::Email => self.notification_id.as_deref(),
        }
    }
}

#[cfg(test)]
pub(crate) fn sample() -> Report {
    Report {
        report_id: "8d0c7a4e-3b1f-4f5e-9a61-0c2b8e7d9f10".into(),
        user_id: "user-1".into(),
        status: ReportStatus::TicketCreated,
        event_ids: vec!["e-1".into()],
        reported_at: "2024-06-01T12:00:00Z".parse().unwrap(),
        requested_at: "2024-06-01T12:00:01Z".parse().unwrap(),
        content_hash: None,
        ticket_id: Some(1001),
        ticket_created_at: None,
        txma_event_id: None,
        txma_sent_at: None,
        notification_id: None,
        email_sent_at: None,
        completed_at: None,
        rejection_reason: None,
        failure: None,
        correlation_id: None,
        redrives: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completes_only_with_all_three_ids() {
        let mut r = sample();
        assert!(!r.ready_to_complete());
        r.txma_event_id = Some("t".into());
        assert!(!r.ready_to_complete());
        r.notification_id = Some("n".into());
        assert!(r.ready_to_complete());
        r.status = ReportStatus::Completed;
        assert!(!r.ready_to_complete(), "already completed");
    }

    #[test]
    fn a_failed_report_completes_once_the_redriven_step_lands() {
        let mut r = sample();
        r.status = ReportStatus::Failed;
        r.txma_event_id = Some("t".into());
        r.notification_id = Some("n".into());
        assert!(r.ready_to_complete());
    }

    #[test]
    fn statuses_serialise_as_the_api_shows_them() {
        assert_eq!(serde_json::to_value(ReportStatus::TicketCreated).unwrap(), "TICKET_CREATED");
        assert_eq!(ReportStatus::TicketCreated.as_str(), "TICKET_CREATED");
    }
}
