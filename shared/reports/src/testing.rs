//! In-memory stand-ins for the report ports, with the same conditional semantics
//! as the DynamoDB adapter, for unit tests of the use cases and handlers.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::clients::http::{Certainty, HttpError};
use crate::clients::notify::EmailRequest;
use crate::clients::zendesk::NewTicket;
use crate::ports::*;
use crate::report::{Effect, Failure, Report, ReportStatus};
use crate::request::ReportRequest;
use crate::txma::{TxmaError, TxmaEvent};

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[derive(Default)]
struct Claim {
    until: Option<DateTime<Utc>>,
    uncertain: bool,
}

/// (user, event) → (report marking it, ticket id)
type EventMarks = HashMap<(String, String), (Option<String>, Option<u64>)>;

#[derive(Default)]
pub struct MemoryReportStore {
    events: Mutex<EventMarks>,
    reports: Mutex<HashMap<Uuid, Report>>,
    claims: Mutex<HashMap<(Uuid, &'static str), Claim>>,
}

impl MemoryReportStore {
    pub fn with_events(user: &str, events: &[&str]) -> Self {
        let store = Self::default();
        for e in events {
            lock(&store.events).insert((user.to_owned(), (*e).to_owned()), (None, None));
        }
        store
    }
    pub fn report(&self, id: &Uuid) -> Option<Report> {
        lock(&self.reports).get(id).cloned()
    }
    pub fn event_mark(&self, user: &str, event: &str) -> Option<(Option<String>, Option<u64>)> {
        lock(&self.events).get(&(user.to_owned(), event.to_owned())).cloned()
    }
    /// Makes a claim look abandoned: expired, as after a crash.
    pub fn expire_claims(&self) {
        for c in lock(&self.claims).values_mut() {
            if c.until.is_some() {
                c.until = Some(DateTime::<Utc>::MIN_UTC);
            }
        }
    }

    fn new_report(req: &ReportRequest, status: ReportStatus, now: DateTime<Utc>) -> Report {
        Report {
            report_id: req.report_id.to_string(),
            user_id: req.user_id.to_string(),
            status,
            event_ids: req.event_ids.iter().map(|e| e.to_string()).collect(),
            reported_at: req.reported_at,
            requested_at: now,
            content_hash: Some(req.content_hash()),
            ticket_id: None,
            ticket_created_at: None,
            txma_event_id: None,
            txma_sent_at: None,
            notification_id: None,
            email_sent_at: None,
            completed_at: None,
            rejection_reason: None,
            failure: None,
        }
    }
}

#[async_trait]
impl ReportStore for MemoryReportStore {
    async fn mark_reported(&self, req: &ReportRequest, now: DateTime<Utc>) -> Result<MarkOutcome, StoreError> {
        let mut reports = lock(&self.reports);
        if let Some(r) = reports.get(&req.report_id) {
            return Ok(MarkOutcome::Existing(Box::new(r.clone())));
        }
        let mut events = lock(&self.events);
        let user = req.user_id.to_string();
        let conflicts: Vec<EventConflict> = req
            .event_ids
            .iter()
            .filter_map(|e| match events.get(&(user.clone(), e.to_string())) {
                None => Some(EventConflict::NotFound { event_id: e.to_string() }),
                Some((Some(_), _)) => Some(EventConflict::AlreadyReported { event_id: e.to_string() }),
                Some((None, _)) => None,
            })
            .collect();
        if !conflicts.is_empty() {
            return Ok(MarkOutcome::Conflicts(conflicts));
        }
        for e in &req.event_ids {
            events.insert((user.clone(), e.to_string()), (Some(req.report_id.to_string()), None));
        }
        reports.insert(req.report_id, Self::new_report(req, ReportStatus::Requested, now));
        Ok(MarkOutcome::Marked)
    }

    async fn reject(
        &self,
        req: &ReportRequest,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Report>, StoreError> {
        let mut reports = lock(&self.reports);
        if let Some(r) = reports.get(&req.report_id) {
            return Ok(Some(r.clone()));
        }
        let mut r = Self::new_report(req, ReportStatus::Rejected, now);
        r.rejection_reason = Some(reason.to_owned());
        reports.insert(req.report_id, r);
        Ok(None)
    }

    async fn get(&self, report_id: &Uuid) -> Result<Option<Report>, StoreError> {
        Ok(self.report(report_id))
    }

    async fn record_ticket(
        &self,
        req: &ReportRequest,
        ticket_id: u64,
        now: DateTime<Utc>,
    ) -> Result<TicketRecorded, StoreError> {
        let mut events = lock(&self.events);
        for e in &req.event_ids {
            if let Some(mark) = events.get_mut(&(req.user_id.to_string(), e.to_string())) {
                if mark.0.as_deref() == Some(req.report_id.to_string().as_str()) {
                    mark.1 = Some(ticket_id);
                }
            }
        }
        let mut reports = lock(&self.reports);
        let r = reports.get_mut(&req.report_id).ok_or_else(|| StoreError::Malformed("no report".into()))?;
        match r.ticket_id {
            Some(t) if t != ticket_id => return Ok(TicketRecorded::OtherTicket(t)),
            _ => {}
        }
        if matches!(r.status, ReportStatus::Requested | ReportStatus::Failed | ReportStatus::TicketCreated) {
            r.ticket_id = Some(ticket_id);
            r.ticket_created_at.get_or_insert(now);
            r.status = ReportStatus::TicketCreated;
            r.failure = None;
        }
        Ok(TicketRecorded::Recorded)
    }

    async fn claim(
        &self,
        report_id: &Uuid,
        effect: Effect,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<ClaimOutcome, StoreError> {
        let reports = lock(&self.reports);
        let Some(r) = reports.get(report_id) else { return Ok(ClaimOutcome::Missing) };
        if r.effect_id(effect).is_some() {
            return Ok(ClaimOutcome::AlreadyDone(Box::new(r.clone())));
        }
        let mut claims = lock(&self.claims);
        let claim = claims.entry((*report_id, effect.as_str())).or_default();
        match claim.until {
            Some(u) if u >= now => Ok(ClaimOutcome::Busy),
            old => {
                let after_uncertain = old.is_some() || claim.uncertain;
                claim.until = Some(until);
                Ok(ClaimOutcome::Claimed { after_uncertain })
            }
        }
    }

    async fn release(&self, report_id: &Uuid, effect: Effect, uncertain: bool) -> Result<(), StoreError> {
        if let Some(c) = lock(&self.claims).get_mut(&(*report_id, effect.as_str())) {
            if c.until.take().is_some() && uncertain {
                c.uncertain = true;
            }
        }
        Ok(())
    }

    async fn record_effect(
        &self,
        report_id: &Uuid,
        effect: Effect,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<Report, StoreError> {
        lock(&self.claims).remove(&(*report_id, effect.as_str()));
        let mut reports = lock(&self.reports);
        let r = reports.get_mut(report_id).ok_or_else(|| StoreError::Malformed("no report".into()))?;
        match effect {
            Effect::Txma => {
                r.txma_event_id.get_or_insert_with(|| id.to_owned());
                r.txma_sent_at.get_or_insert(now);
            }
            Effect::Email => {
                r.notification_id.get_or_insert_with(|| id.to_owned());
                r.email_sent_at.get_or_insert(now);
            }
        }
        Ok(r.clone())
    }

    async fn complete(&self, report_id: &Uuid, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let mut reports = lock(&self.reports);
        let Some(r) = reports.get_mut(report_id) else { return Ok(false) };
        if !r.ready_to_complete() {
            return Ok(false);
        }
        r.status = ReportStatus::Completed;
        r.completed_at = Some(now);
        r.failure = None;
        Ok(true)
    }

    async fn mark_failed(&self, report_id: &Uuid, failure: &Failure) -> Result<(), StoreError> {
        if let Some(r) = lock(&self.reports).get_mut(report_id) {
            if !matches!(r.status, ReportStatus::Completed | ReportStatus::Rejected) {
                r.status = ReportStatus::Failed;
                r.failure = Some(failure.clone());
            }
        }
        Ok(())
    }
}

/// How a fake provider answers the next calls.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reply {
    Ok,
    /// An error response; nothing done.
    Status(u16),
    /// Done, then the answer was lost (timeout after sending).
    LostAfterDone,
}

fn take_reply(q: &Mutex<Vec<Reply>>) -> Reply {
    let mut q = lock(q);
    if q.is_empty() {
        Reply::Ok
    } else {
        q.remove(0)
    }
}

fn status_error(service: &'static str, status: u16) -> HttpError {
    HttpError::Status { service, status, code: None, retry_after: None }
}

fn lost(service: &'static str) -> HttpError {
    HttpError::Transport { service, certainty: Certainty::Unknown, message: "timed out".into() }
}

/// Zendesk with its idempotency key: one ticket per key.
#[derive(Default)]
pub struct FakeDesk {
    pub replies: Mutex<Vec<Reply>>,
    tickets: Mutex<Vec<(u64, String, String)>>,
    pub creates: Mutex<u32>,
}

impl FakeDesk {
    pub fn tickets(&self) -> usize {
        lock(&self.tickets).len()
    }
}

#[async_trait]
impl TicketDesk for FakeDesk {
    async fn find(&self, external_id: &str) -> Result<Option<u64>, HttpError> {
        Ok(lock(&self.tickets).iter().find(|t| t.2 == external_id).map(|t| t.0))
    }
    async fn create(&self, ticket: &NewTicket) -> Result<u64, HttpError> {
        *lock(&self.creates) += 1;
        let reply = take_reply(&self.replies);
        if let Reply::Status(s) = reply {
            return Err(status_error("Zendesk", s));
        }
        let mut tickets = lock(&self.tickets);
        let id = match tickets.iter().find(|t| t.1 == ticket.idempotency_key) {
            Some(t) => t.0,
            None => {
                let id = 1000 + tickets.len() as u64;
                tickets.push((id, ticket.idempotency_key.clone(), ticket.external_id.clone()));
                id
            }
        };
        if reply == Reply::LostAfterDone {
            return Err(lost("Zendesk"));
        }
        Ok(id)
    }
}

/// Notify: no idempotency key, only `reference` lookups.
#[derive(Default)]
pub struct FakeMailer {
    pub replies: Mutex<Vec<Reply>>,
    sent: Mutex<Vec<(String, EmailRequest)>>,
}

impl FakeMailer {
    pub fn sent(&self) -> Vec<EmailRequest> {
        lock(&self.sent).iter().map(|s| s.1.clone()).collect()
    }
}

#[async_trait]
impl Mailer for FakeMailer {
    async fn find(&self, reference: &str) -> Result<Option<String>, HttpError> {
        Ok(lock(&self.sent).iter().find(|s| s.1.reference == reference).map(|s| s.0.clone()))
    }
    async fn send(&self, email: &EmailRequest) -> Result<String, HttpError> {
        let reply = take_reply(&self.replies);
        if let Reply::Status(s) = reply {
            return Err(status_error("Notify", s));
        }
        let id = Uuid::new_v4().to_string();
        lock(&self.sent).push((id.clone(), email.clone()));
        if reply == Reply::LostAfterDone {
            return Err(lost("Notify"));
        }
        Ok(id)
    }
}

#[derive(Default)]
pub struct FakeSink {
    pub sent: Mutex<Vec<TxmaEvent>>,
}

#[async_trait]
impl AuditSink for FakeSink {
    async fn send(&self, event: &TxmaEvent) -> Result<(), TxmaError> {
        lock(&self.sent).push(event.clone());
        Ok(())
    }
}
