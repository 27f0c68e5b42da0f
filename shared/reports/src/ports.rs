//! What the report use cases need from the outside world, one small trait each.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::clients::http::HttpError;
use crate::clients::notify::EmailRequest;
use crate::clients::zendesk::NewTicket;
use crate::report::{Effect, Failure, Report, ReportStatus};
use crate::request::ReportRequest;
use crate::txma::{TxmaError, TxmaEvent};

/// Why a listed event cannot be reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventConflict {
    /// No such event in this user's activity log (absent, or someone else's).
    NotFound {
        event_id: String,
    },
    AlreadyReported {
        event_id: String,
    },
}

impl std::fmt::Display for EventConflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EventConflict::NotFound { event_id } => write!(f, "event {event_id} is not in this user's activity log"),
            EventConflict::AlreadyReported { event_id } => write!(f, "event {event_id} is already reported"),
        }
    }
}

/// What the marking transaction did.
#[derive(Debug, Clone, PartialEq)]
pub enum MarkOutcome {
    /// Report created as REQUESTED, every event marked.
    Marked,
    /// A report with this id exists already (a redelivery, or a reused id).
    Existing(Box<Report>),
    /// Nothing was written: these events cannot be reported.
    Conflicts(Vec<EventConflict>),
}

/// What claiming an effect found.
#[derive(Debug, Clone, PartialEq)]
pub enum ClaimOutcome {
    /// This attempt holds the claim. `after_uncertain`: an earlier attempt may have
    /// performed the effect without recording it (it crashed, or timed out after
    /// sending), so look before acting.
    Claimed { after_uncertain: bool },
    /// The effect is recorded already.
    AlreadyDone(Box<Report>),
    /// Another attempt holds an unexpired claim.
    Busy,
    /// No such report.
    Missing,
}

/// What recording the ticket found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketRecorded {
    Recorded,
    /// The report already names another ticket: never overwritten.
    OtherTicket(u64),
}

/// Store failures: the kit's one enum for DynamoDB-backed stores.
pub use kit::store::StoreError;

/// The report workflow's state.
#[async_trait]
pub trait ReportStore: Send + Sync + 'static {
    /// One transaction: the report as REQUESTED and every listed event marked, or nothing.
    /// The request's correlation id and email are kept with it while it is open, so
    /// a redrive can rebuild its messages (`ops workflow redrive`).
    async fn mark_reported(
        &self,
        req: &ReportRequest,
        correlation_id: &str,
        now: DateTime<Utc>,
    ) -> Result<MarkOutcome, StoreError>;
    /// Stores the report as REJECTED unless a report with its id exists (returned).
    async fn reject(&self, req: &ReportRequest, reason: &str, now: DateTime<Utc>)
        -> Result<Option<Report>, StoreError>;
    async fn get(&self, report_id: &Uuid) -> Result<Option<Report>, StoreError>;
    /// The ticket id on every event, then on the report (the report's field is the
    /// step's "done" marker, so it is written last).
    async fn record_ticket(
        &self,
        req: &ReportRequest,
        ticket_id: u64,
        now: DateTime<Utc>,
    ) -> Result<TicketRecorded, StoreError>;
    async fn claim(
        &self,
        report_id: &Uuid,
        effect: Effect,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<ClaimOutcome, StoreError>;
    /// Gives a claim up after a failed attempt; `uncertain` when the effect may have happened.
    async fn release(&self, report_id: &Uuid, effect: Effect, uncertain: bool) -> Result<(), StoreError>;
    /// Records the effect's id and returns the report as it now is.
    async fn record_effect(
        &self,
        report_id: &Uuid,
        effect: Effect,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<Report, StoreError>;
    /// The fan-in: COMPLETED if every id is present and it was not yet. True if this call did it.
    async fn complete(&self, report_id: &Uuid, now: DateTime<Utc>) -> Result<bool, StoreError>;
    /// FAILED with the reason, unless the report is already COMPLETED or REJECTED.
    async fn mark_failed(&self, report_id: &Uuid, failure: &Failure) -> Result<(), StoreError>;
}

/// The query API's view of reports.
#[async_trait]
pub trait ReportReader: Send + Sync + 'static {
    async fn get(&self, report_id: &Uuid) -> Result<Option<Report>, StoreError>;
    /// Statuses of the given reports (missing ones are left out).
    async fn statuses(&self, report_ids: &[String]) -> Result<Vec<(String, ReportStatus)>, StoreError>;
}

/// Zendesk, as the ticket step needs it.
#[async_trait]
pub trait TicketDesk: Send + Sync + 'static {
    /// The ticket created for this external id, if any.
    async fn find(&self, external_id: &str) -> Result<Option<u64>, HttpError>;
    async fn create(&self, ticket: &NewTicket) -> Result<u64, HttpError>;
}

/// GOV.UK Notify, as the email step needs it.
#[async_trait]
pub trait Mailer: Send + Sync + 'static {
    /// The notification sent with this reference, if any.
    async fn find(&self, reference: &str) -> Result<Option<String>, HttpError>;
    async fn send(&self, email: &EmailRequest) -> Result<String, HttpError>;
}

/// TxMA's queue.
#[async_trait]
pub trait AuditSink: Send + Sync + 'static {
    async fn send(&self, event: &TxmaEvent) -> Result<(), TxmaError>;
}
