//! In-memory ports for the use-case and handler tests (feature `testing`). The
//! store evaluates the same conditions as the DynamoDB adapter, under one lock, as
//! DynamoDB does per item.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kit::sdk::SdkFailure;
use kit::Envelope;

use crate::dynamo::keys::MAX_OUTPUT_BYTES;
use crate::dynamo::SWEEP_ORDER;
use crate::messages::DecisionMade;
use crate::ports::{
    Created, DecisionQueue, DecisionStore, DecisionWrite, DecisionWritten, Effect, EffectStore, EnqueueError,
    ExecutionStore, MailError, Mailer, Outbox, OutgoingEmail, RequestStore, StoreError,
};
use crate::rules::ExecutionOutcome;
use crate::state::{
    ApprovalRequest, AwaitedStep, Awaiting, DecisionRecord, Execution, HistoryEntry, OutboxEvent, Status,
};
use crate::token::TokenHash;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[derive(Debug, Clone)]
struct Row {
    req: ApprovalRequest,
    emails_claim: Option<DateTime<Utc>>,
    notify_claim: Option<DateTime<Utc>>,
    outbox_due: Option<DateTime<Utc>>,
}

type Hook = Box<dyn FnOnce(&mut ApprovalRequest) + Send>;

#[derive(Default)]
pub struct MemoryApprovalStore {
    rows: Mutex<HashMap<String, Row>>,
    /// Applied to the item just before the next decision's condition is checked:
    /// "somebody else wrote between our read and our write".
    before_decide: Mutex<Option<Hook>>,
}

impl MemoryApprovalStore {
    pub fn request(&self, id: &str) -> Option<ApprovalRequest> {
        lock(&self.rows).get(id).map(|r| r.req.clone())
    }

    /// Changes a stored request in place (tests: expire it, fake a crash's leftovers).
    pub fn edit(&self, id: &str, f: impl FnOnce(&mut ApprovalRequest)) {
        if let Some(row) = lock(&self.rows).get_mut(id) {
            f(&mut row.req);
        }
    }

    pub fn before_next_decide(&self, f: impl FnOnce(&mut ApprovalRequest) + Send + 'static) {
        *lock(&self.before_decide) = Some(Box::new(f));
    }

    pub fn outbox_due_of(&self, id: &str) -> Option<DateTime<Utc>> {
        lock(&self.rows).get(id).and_then(|r| r.outbox_due)
    }

    fn with_row<T>(&self, id: &str, f: impl FnOnce(&mut Row) -> T) -> Option<T> {
        lock(&self.rows).get_mut(id).map(f)
    }
}

#[async_trait]
impl RequestStore for MemoryApprovalStore {
    async fn create(&self, req: &ApprovalRequest, outbox_due: DateTime<Utc>) -> Result<Created, StoreError> {
        let mut rows = lock(&self.rows);
        if let Some(existing) = rows.get(&req.request_id) {
            return Ok(Created::Existing(Box::new(existing.req.clone())));
        }
        let mut req = req.clone();
        // As the DynamoDB adapter writes it: the wait starts at the first due time.
        req.awaiting = req.awaiting.or_else(|| req.outbox.map(|e| Awaiting { step: e.awaited(), since: outbox_due }));
        let row = Row {
            req: req.clone(),
            emails_claim: None,
            notify_claim: None,
            outbox_due: req.outbox.map(|_| outbox_due),
        };
        rows.insert(req.request_id.clone(), row);
        Ok(Created::New)
    }

    async fn get(&self, request_id: &str) -> Result<Option<ApprovalRequest>, StoreError> {
        Ok(self.request(request_id))
    }
}

#[async_trait]
impl DecisionStore for MemoryApprovalStore {
    async fn decide(&self, w: &DecisionWrite<'_>) -> Result<DecisionWritten, StoreError> {
        let hook = lock(&self.before_decide).take();
        Ok(self
            .with_row(w.request_id, |row| {
                if let Some(hook) = hook {
                    hook(&mut row.req);
                }
                let r = &mut row.req;
                let holds = r.approvers.get(w.approver).is_some_and(|a| {
                    a.token_hash.as_deref() == Some(w.token_hash.to_hex().as_str()) && a.revoked_at.is_none()
                });
                if r.status != Status::Pending || !holds || w.now >= r.expires_at {
                    return DecisionWritten::Lost(Some(Box::new(r.clone())));
                }
                r.status = w.decision.status();
                r.decision = Some(DecisionRecord { decision: w.decision, decided_at: w.now, decided_by: w.approver });
                r.approvers[w.approver].used_at = Some(w.now);
                for &k in w.revoke {
                    if let Some(a) = r.approvers.get_mut(k) {
                        a.revoked_at = Some(w.now);
                    }
                }
                r.outbox = Some(OutboxEvent::Decided);
                r.awaiting = Some(Awaiting { step: AwaitedStep::Enqueue, since: w.outbox_due });
                row.outbox_due = Some(w.outbox_due);
                r.history.push(HistoryEntry::new(
                    w.now,
                    w.decision.status().as_str(),
                    Some(format!("approver #{}", w.approver)),
                ));
                DecisionWritten::Won
            })
            .unwrap_or(DecisionWritten::Lost(None)))
    }
}

#[async_trait]
impl EffectStore for MemoryApprovalStore {
    async fn claim(
        &self,
        request_id: &str,
        effect: Effect,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        Ok(self
            .with_row(request_id, |row| {
                let (claim, done) = match effect {
                    Effect::Emails => (&mut row.emails_claim, row.req.emails_sent_at),
                    Effect::Notify => (&mut row.notify_claim, row.req.approvers_notified_at),
                };
                if done.is_some() || claim.is_some_and(|c| c >= now) {
                    return false;
                }
                *claim = Some(until);
                true
            })
            .unwrap_or(false))
    }

    async fn release(&self, request_id: &str, effect: Effect) -> Result<(), StoreError> {
        self.with_row(request_id, |row| match effect {
            Effect::Emails => row.emails_claim = None,
            Effect::Notify => row.notify_claim = None,
        });
        Ok(())
    }

    async fn set_token(
        &self,
        request_id: &str,
        approver: usize,
        hash: &TokenHash,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        Ok(self
            .with_row(request_id, |row| {
                let r = &mut row.req;
                if r.status != Status::Pending || now >= r.expires_at {
                    return false;
                }
                match r.approvers.get_mut(approver) {
                    Some(a) if a.emailed_at.is_none() && a.revoked_at.is_none() && a.undeliverable_at.is_none() => {
                        a.token_hash = Some(hash.to_hex());
                        a.minted_at = Some(now);
                        true
                    }
                    _ => false,
                }
            })
            .unwrap_or(false))
    }

    async fn mark_emailed(&self, request_id: &str, approver: usize, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.with_row(request_id, |row| {
            if let Some(a) = row.req.approvers.get_mut(approver) {
                a.emailed_at.get_or_insert(now);
            }
        });
        Ok(())
    }

    async fn mark_notified(&self, request_id: &str, approver: usize, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.with_row(request_id, |row| {
            if let Some(a) = row.req.approvers.get_mut(approver) {
                a.notified_at.get_or_insert(now);
            }
        });
        Ok(())
    }

    async fn mark_undeliverable(
        &self,
        request_id: &str,
        approver: usize,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.with_row(request_id, |row| {
            let Some(a) = row.req.approvers.get_mut(approver) else {
                return;
            };
            if a.emailed_at.is_some() || a.undeliverable_at.is_some() {
                return;
            }
            a.undeliverable_at = Some(now);
            a.undeliverable_reason = Some(reason.to_owned());
            a.token_hash = None;
            a.minted_at = None;
            let detail = format!("approver #{approver}: {reason}");
            row.req.history.push(HistoryEntry::new(now, "approver_undeliverable", Some(detail)));
        });
        Ok(())
    }

    async fn end_undeliverable(&self, request_id: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        Ok(self
            .with_row(request_id, |row| {
                if row.req.status != Status::Pending {
                    return false;
                }
                row.req.status = Status::Undeliverable;
                row.req.outbox = None;
                row.req.awaiting = None;
                row.outbox_due = None;
                row.emails_claim = None;
                let detail = Some("SES refused every approver's address".to_owned());
                row.req.history.push(HistoryEntry::new(now, Status::Undeliverable.as_str(), detail));
                true
            })
            .unwrap_or(false))
    }

    async fn finish(&self, request_id: &str, effect: Effect, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.with_row(request_id, |row| {
            let (done, event) = match effect {
                Effect::Emails => {
                    row.emails_claim = None;
                    (&mut row.req.emails_sent_at, "approvers_emailed")
                }
                Effect::Notify => {
                    row.notify_claim = None;
                    (&mut row.req.approvers_notified_at, "others_notified")
                }
            };
            if done.is_none() {
                *done = Some(now);
                row.req.history.push(HistoryEntry::new(now, event, None));
            }
        });
        Ok(())
    }

    async fn mark_enqueued(&self, request_id: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        Ok(self
            .with_row(request_id, |row| {
                if row.req.decision_enqueued_at.is_some() {
                    return false;
                }
                row.req.decision_enqueued_at = Some(now);
                row.req.outbox = None;
                let r = &row.req;
                if (r.status == Status::Approved && r.execution.is_none())
                    || (r.status == Status::Rejected && r.rejection_recorded_at.is_none())
                {
                    row.req.awaiting = Some(Awaiting { step: AwaitedStep::Processor, since: now });
                }
                row.outbox_due = None;
                row.req.history.push(HistoryEntry::new(now, "decision_enqueued", None));
                true
            })
            .unwrap_or(false))
    }
}

#[async_trait]
impl ExecutionStore for MemoryApprovalStore {
    async fn begin(&self, request_id: &str, attempt_id: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        Ok(self
            .with_row(request_id, |row| {
                if row.req.status != Status::Approved {
                    return false;
                }
                row.req.status = Status::Executing;
                row.req.awaiting = Some(Awaiting { step: AwaitedStep::Execution, since: now });
                row.req.execution = Some(Execution {
                    attempt_id: attempt_id.to_owned(),
                    started_at: now,
                    finished_at: None,
                    output: None,
                });
                row.req.history.push(HistoryEntry::new(now, "EXECUTING", Some(format!("attempt {attempt_id}"))));
                true
            })
            .unwrap_or(false))
    }

    async fn finish(
        &self,
        request_id: &str,
        attempt_id: &str,
        outcome: ExecutionOutcome,
        output: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        Ok(self
            .with_row(request_id, |row| {
                let r = &mut row.req;
                let Some(e) = r.execution.as_mut().filter(|e| e.attempt_id == attempt_id) else {
                    return false;
                };
                if r.status != Status::Executing {
                    return false;
                }
                e.finished_at = Some(now);
                e.output = Some(output.chars().take(MAX_OUTPUT_BYTES).collect());
                r.status = outcome.status();
                r.awaiting = None;
                r.history.push(HistoryEntry::new(now, r.status.as_str(), Some(format!("attempt {attempt_id}"))));
                true
            })
            .unwrap_or(false))
    }

    async fn record_rejection(&self, request_id: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        Ok(self
            .with_row(request_id, |row| {
                if row.req.status != Status::Rejected || row.req.rejection_recorded_at.is_some() {
                    return false;
                }
                row.req.rejection_recorded_at = Some(now);
                row.req.awaiting = None;
                row.req.history.push(HistoryEntry::new(now, "rejection_recorded", Some("not executed".into())));
                true
            })
            .unwrap_or(false))
    }
}

#[async_trait]
impl Outbox for MemoryApprovalStore {
    async fn due(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<(String, OutboxEvent)>, StoreError> {
        let rows = lock(&self.rows);
        let mut due: Vec<(DateTime<Utc>, String, OutboxEvent)> = rows
            .values()
            .filter_map(|r| Some((r.outbox_due?, r.req.request_id.clone(), r.req.outbox?)))
            .filter(|(at, _, _)| *at <= now)
            .collect();
        // As the DynamoDB adapter reads them: event by event in `SWEEP_ORDER`, each oldest first.
        let rank = |e: &OutboxEvent| SWEEP_ORDER.iter().position(|o| o == e).unwrap_or(usize::MAX);
        due.sort_by(|a, b| (rank(&a.2), a.0, &a.1).cmp(&(rank(&b.2), b.0, &b.1)));
        Ok(due.into_iter().take(limit).map(|(_, id, e)| (id, e)).collect())
    }

    async fn postpone(&self, request_id: &str, event: OutboxEvent, until: DateTime<Utc>) -> Result<(), StoreError> {
        self.with_row(request_id, |row| {
            if row.req.outbox == Some(event) {
                row.outbox_due = Some(until);
            }
        });
        Ok(())
    }

    async fn clear(&self, request_id: &str, event: OutboxEvent) -> Result<(), StoreError> {
        self.with_row(request_id, |row| {
            if row.req.outbox == Some(event) {
                row.req.outbox = None;
                row.outbox_due = None;
                if row.req.awaiting.is_some_and(|a| a.step == event.awaited()) {
                    row.req.awaiting = None;
                }
            }
        });
        Ok(())
    }
}

/// Keeps every email "sent"; can be told to fail the next ones, or to refuse
/// some addresses for good (as SES refuses a malformed or unverified recipient).
#[derive(Default)]
pub struct FakeMailer {
    sent: Mutex<Vec<OutgoingEmail>>,
    failures_left: Mutex<u32>,
    refused: Mutex<Vec<String>>,
    attempts: Mutex<Vec<String>>,
}

impl FakeMailer {
    pub fn sent(&self) -> Vec<OutgoingEmail> {
        lock(&self.sent).clone()
    }
    pub fn sent_to(&self, address: &str) -> Vec<OutgoingEmail> {
        self.sent().into_iter().filter(|e| e.to == address).collect()
    }
    pub fn fail_next(&self, n: u32) {
        *lock(&self.failures_left) = n;
    }
    /// Every send to `address` is refused as SES refuses an address it will never
    /// accept (`InvalidParameterValue`, "Missing domain" from the emulator).
    pub fn refuse(&self, address: &str) {
        lock(&self.refused).push(address.to_owned());
    }
    /// Sends attempted to `address`, refused ones included.
    pub fn attempts_to(&self, address: &str) -> usize {
        lock(&self.attempts).iter().filter(|a| *a == address).count()
    }
}

#[async_trait]
impl Mailer for FakeMailer {
    async fn send(&self, email: &OutgoingEmail) -> Result<(), MailError> {
        lock(&self.attempts).push(email.to.clone());
        if lock(&self.refused).contains(&email.to) {
            // What `SesMailer` makes of it (see `ses::refuses_recipient`).
            return Err(MailError::Refused(SdkFailure {
                class: kit::ErrorClass::Permanent,
                code: Some("InvalidParameterValue".into()),
                message: "Missing domain".into(),
            }));
        }
        {
            let mut left = lock(&self.failures_left);
            if *left > 0 {
                *left -= 1;
                return Err(MailError::Ses(SdkFailure::retryable("injected")));
            }
        }
        lock(&self.sent).push(email.clone());
        Ok(())
    }
}

/// Keeps every send to the FIFO queue; `delivered` applies SQS's deduplication.
#[derive(Default)]
pub struct FakeDecisionQueue {
    sends: Mutex<Vec<Envelope<DecisionMade>>>,
    failures_left: Mutex<u32>,
}

impl FakeDecisionQueue {
    pub fn sends(&self) -> Vec<Envelope<DecisionMade>> {
        lock(&self.sends).clone()
    }
    /// What a consumer would receive: one message per deduplication id (request id).
    pub fn delivered(&self) -> Vec<Envelope<DecisionMade>> {
        let mut seen = std::collections::HashSet::new();
        self.sends().into_iter().filter(|m| seen.insert(m.payload.request_id.clone())).collect()
    }
    pub fn fail_next(&self, n: u32) {
        *lock(&self.failures_left) = n;
    }
}

#[async_trait]
impl DecisionQueue for FakeDecisionQueue {
    async fn send(&self, message: &Envelope<DecisionMade>) -> Result<(), EnqueueError> {
        {
            let mut left = lock(&self.failures_left);
            if *left > 0 {
                *left -= 1;
                return Err(EnqueueError::Sqs(SdkFailure::retryable("injected")));
            }
        }
        lock(&self.sends).push(message.clone());
        Ok(())
    }
}
