//! In-memory stand-ins for the report ports, with the same conditional semantics
//! as the DynamoDB adapter, for unit tests of the use cases and handlers.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::clients::http::{Certainty, HttpError, Service};
use crate::clients::notify::EmailRequest;
use crate::clients::zendesk::NewTicket;
use crate::ports::*;
use crate::report::{Effect, Failure, Report, ReportStatus};
use crate::request::ReportRequest;
use crate::secrets::{SecretError, SecretSource};
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
            correlation_id: None,
            redrives: Vec::new(),
        }
    }
}

#[async_trait]
impl ReportStore for MemoryReportStore {
    async fn mark_reported(
        &self,
        req: &ReportRequest,
        _correlation_id: &str,
        now: DateTime<Utc>,
    ) -> Result<MarkOutcome, StoreError> {
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
        let r = reports.get_mut(&req.report_id).ok_or_else(|| StoreError::malformed("report", "no report"))?;
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
        let r = reports.get_mut(report_id).ok_or_else(|| StoreError::malformed("report", "no report"))?;
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
    /// 429 with `Retry-After` in seconds; nothing done.
    Throttled(u64),
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

/// The error a refusing reply stands for, if it is one.
fn refusal(service: Service, reply: Reply) -> Option<HttpError> {
    let (status, retry_after) = match reply {
        Reply::Status(s) => (s, None),
        Reply::Throttled(secs) => (429, Some(std::time::Duration::from_secs(secs))),
        Reply::Ok | Reply::LostAfterDone => return None,
    };
    Some(HttpError::Status { service, status, code: None, retry_after })
}

fn lost(service: Service) -> HttpError {
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
        if let Some(e) = refusal(Service::Zendesk, reply) {
            return Err(e);
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
            return Err(lost(Service::Zendesk));
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
        if let Some(e) = refusal(Service::Notify, reply) {
            return Err(e);
        }
        let id = Uuid::new_v4().to_string();
        lock(&self.sent).push((id.clone(), email.clone()));
        if reply == Reply::LostAfterDone {
            return Err(lost(Service::Notify));
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

/// A Secrets Manager secret that was rotated behind the cache: `get` serves the
/// cached value; `refresh` reads the store, which holds the rotated value once
/// [`FakeSecret::rotate`] was called (the same value otherwise).
pub struct FakeSecret {
    cached: Mutex<String>,
    stored: Mutex<String>,
    refreshes: AtomicU32,
}

impl FakeSecret {
    pub fn new(value: &str) -> Self {
        Self {
            cached: Mutex::new(value.to_owned()),
            stored: Mutex::new(value.to_owned()),
            refreshes: AtomicU32::new(0),
        }
    }
    /// The store now holds `value`; the cache still serves the old one.
    pub fn rotate(&self, value: &str) {
        *lock(&self.stored) = value.to_owned();
    }
    /// How many times the store was read past the cache.
    pub fn refreshes(&self) -> u32 {
        self.refreshes.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl SecretSource for FakeSecret {
    async fn get(&self) -> Result<String, SecretError> {
        Ok(lock(&self.cached).clone())
    }
    async fn refresh(&self, _stale: &str) -> Result<String, SecretError> {
        self.refreshes.fetch_add(1, Ordering::SeqCst);
        let stored = lock(&self.stored).clone();
        *lock(&self.cached) = stored.clone();
        Ok(stored)
    }
}

/// One scripted HTTP answer.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

impl Answer {
    pub fn new(status: u16, body: &str) -> Self {
        Self { status, headers: Vec::new(), body: body.to_owned() }
    }
    pub fn header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.to_owned()));
        self
    }
}

/// What the fake provider received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    /// Header names lower-cased.
    pub headers: HashMap<String, String>,
}

/// A provider on a local port answering from a script, one answer per request
/// (500 once the script runs out), for the real HTTP clients' tests: enough
/// HTTP/1.1 for reqwest, one request per connection.
pub struct FakeProvider {
    pub base_url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

impl FakeProvider {
    pub async fn start(answers: Vec<Answer>) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let script = Mutex::new(VecDeque::from(answers));
        let log = seen.clone();
        let task = tokio::spawn(async move {
            while let Ok((conn, _)) = listener.accept().await {
                // Served in turn: the script's order is the requests' order. A
                // connection that breaks is the client's problem to report.
                drop(serve_one(conn, &script, &log).await);
            }
        });
        Ok(Self { base_url, seen, task })
    }

    pub fn seen(&self) -> Vec<Seen> {
        lock(&self.seen).clone()
    }
}

impl Drop for FakeProvider {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve_one(
    mut conn: tokio::net::TcpStream,
    script: &Mutex<VecDeque<Answer>>,
    log: &Mutex<Vec<Seen>>,
) -> std::io::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = conn.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut start = lines.next().unwrap_or_default().split(' ');
    let method = start.next().unwrap_or_default().to_owned();
    let path = start.next().unwrap_or_default().to_owned();
    let headers: HashMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers.get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
    while buf.len() < head_end + length {
        let n = conn.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    // Logged before answering, so the client never sees an answer before its request is on record.
    lock(log).push(Seen { method, path, headers });
    let answer = lock(script).pop_front().unwrap_or_else(|| Answer::new(500, "{}"));
    let mut out = format!(
        "HTTP/1.1 {} Scripted\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
        answer.status,
        answer.body.len()
    );
    for (name, value) in &answer.headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(&answer.body);
    conn.write_all(out.as_bytes()).await?;
    conn.shutdown().await
}
