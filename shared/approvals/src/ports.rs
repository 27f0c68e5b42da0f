//! What the approval use cases need from the outside world, one small trait per
//! capability. The DynamoDB adapter implements all the store traits on one item.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kit::sdk::SdkFailure;
use kit::{Classify, Envelope, ErrorClass};

use crate::messages::DecisionMade;
use crate::rules::ExecutionOutcome;
use crate::state::{ApprovalRequest, Decision, OutboxEvent};
use crate::token::TokenHash;

/// Store failures: the kit's one enum for DynamoDB-backed stores.
pub use kit::store::StoreError;

/// What storing a new request found.
#[derive(Debug, Clone, PartialEq)]
pub enum Created {
    New,
    /// A request with this id exists already (a retry, or a reused id).
    Existing(Box<ApprovalRequest>),
}

/// Requests as a whole.
#[async_trait]
pub trait RequestStore: Send + Sync + 'static {
    /// Stores the request unless one with its id exists (then returns that one).
    /// `outbox_due`: when the sweep re-announces it if no email step confirmed it.
    async fn create(&self, req: &ApprovalRequest, outbox_due: DateTime<Utc>) -> Result<Created, StoreError>;
    /// A strongly consistent read.
    async fn get(&self, request_id: &str) -> Result<Option<ApprovalRequest>, StoreError>;
}

/// The one write that decides a request.
#[derive(Debug, Clone)]
pub struct DecisionWrite<'a> {
    pub request_id: &'a str,
    pub approver: usize,
    pub token_hash: &'a TokenHash,
    pub decision: Decision,
    /// Every other approver: their tokens are revoked in the same write.
    pub revoke: &'a [usize],
    pub now: DateTime<Utc>,
    pub outbox_due: DateTime<Utc>,
}

/// What the decision write did.
#[derive(Debug, Clone, PartialEq)]
pub enum DecisionWritten {
    /// This write decided the request.
    Won,
    /// The condition failed; nothing was written. The item as it was (DynamoDB
    /// returns it with the failure), so the caller can say why without a re-read;
    /// `None` if there is no item, or the store did not return it.
    Lost(Option<Box<ApprovalRequest>>),
}

#[async_trait]
pub trait DecisionStore: Send + Sync + 'static {
    /// One conditional write: `status = PENDING AND this approver's hash = token_hash
    /// AND not revoked AND now < expires_at`.
    async fn decide(&self, write: &DecisionWrite<'_>) -> Result<DecisionWritten, StoreError>;
}

/// A side effect run under a claim on the request item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// The approval emails with the links.
    Emails,
    /// Telling the other approvers what was decided.
    Notify,
}

impl Effect {
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Emails => "emails",
            Effect::Notify => "notify",
        }
    }
}

/// The step writes: claims, tokens, per-approver marks, the FIFO record.
#[async_trait]
pub trait EffectStore: Send + Sync + 'static {
    /// Takes the effect's claim until `until`, unless the effect is finished or an
    /// unexpired claim is held. True if taken.
    async fn claim(
        &self,
        request_id: &str,
        effect: Effect,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    async fn release(&self, request_id: &str, effect: Effect) -> Result<(), StoreError>;
    /// Stores the hash of the token about to be emailed to `approver`, only while the
    /// request is PENDING, unexpired, and that approver has not been emailed.
    async fn set_token(
        &self,
        request_id: &str,
        approver: usize,
        hash: &TokenHash,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    async fn mark_emailed(&self, request_id: &str, approver: usize, now: DateTime<Utc>) -> Result<(), StoreError>;
    async fn mark_notified(&self, request_id: &str, approver: usize, now: DateTime<Utc>) -> Result<(), StoreError>;
    /// SES refused `approver`'s address for good (`reason`: its error code): marked
    /// once, their unsent token dropped, a history entry. Only while they have not
    /// been emailed.
    async fn mark_undeliverable(
        &self,
        request_id: &str,
        approver: usize,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// PENDING → UNDELIVERABLE (every approver refused): the `approval.requested`
    /// outbox entry and the emails claim go in the same write, so the sweep stops.
    /// False if the request is no longer PENDING.
    async fn end_undeliverable(&self, request_id: &str, now: DateTime<Utc>) -> Result<bool, StoreError>;
    /// The effect is done: its time recorded, its claim dropped, its history entry.
    async fn finish(&self, request_id: &str, effect: Effect, now: DateTime<Utc>) -> Result<(), StoreError>;
    /// `decision_enqueued_at`, first time only, and the `approval.decided` outbox
    /// entry dropped in the same write (after a decision it is the only one left).
    /// True if this call recorded it.
    async fn mark_enqueued(&self, request_id: &str, now: DateTime<Utc>) -> Result<bool, StoreError>;
}

/// The on-prem processor's reports, each one conditional write.
#[async_trait]
pub trait ExecutionStore: Send + Sync + 'static {
    /// APPROVED → EXECUTING for `attempt_id`. False if not APPROVED.
    async fn begin(&self, request_id: &str, attempt_id: &str, now: DateTime<Utc>) -> Result<bool, StoreError>;
    /// EXECUTING by `attempt_id` → EXECUTED or FAILED. False otherwise.
    async fn finish(
        &self,
        request_id: &str,
        attempt_id: &str,
        outcome: ExecutionOutcome,
        output: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// REJECTED and seen by the processor (recorded once). False if not REJECTED or
    /// recorded already.
    async fn record_rejection(&self, request_id: &str, now: DateTime<Utc>) -> Result<bool, StoreError>;
}

/// Announcements not yet confirmed by the step that consumes them.
#[async_trait]
pub trait Outbox: Send + Sync + 'static {
    /// Requests whose announcement is due again, oldest first.
    async fn due(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<(String, OutboxEvent)>, StoreError>;
    /// Moves the next re-announcement to `until` (only if `event` is still pending).
    async fn postpone(&self, request_id: &str, event: OutboxEvent, until: DateTime<Utc>) -> Result<(), StoreError>;
    /// Forgets `event` (only if it is still the pending one).
    async fn clear(&self, request_id: &str, event: OutboxEvent) -> Result<(), StoreError>;
}

/// An email to send. `Debug` leaves out the address and the body (it may hold a link).
#[derive(Clone, PartialEq, Eq)]
pub struct OutgoingEmail {
    pub to: String,
    pub subject: String,
    pub html: String,
    pub text: String,
}

impl std::fmt::Debug for OutgoingEmail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutgoingEmail").field("subject", &self.subject).finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("SES SendEmail failed: {0}")]
    Ses(SdkFailure),
    /// SES refused this recipient for good (a malformed address, or one not verified
    /// while the account is in the SES sandbox): sending to them again fails the
    /// same way, and says nothing about the other recipients. Display leaves out
    /// SES's message, which may quote the address.
    #[error("SES refused the recipient ({})", .0.code.as_deref().unwrap_or("no code"))]
    Refused(SdkFailure),
    #[error("the email could not be built: {0}")]
    Build(String),
}

impl MailError {
    /// What a refused recipient is marked with: SES's error code, nothing more.
    pub fn refusal_code(&self) -> Option<&str> {
        match self {
            MailError::Refused(f) => Some(f.code.as_deref().unwrap_or("refused")),
            _ => None,
        }
    }
}

impl Classify for MailError {
    fn class(&self) -> ErrorClass {
        match self {
            MailError::Ses(f) => f.class,
            MailError::Refused(_) | MailError::Build(_) => ErrorClass::Permanent,
        }
    }
    fn kind(&self) -> &'static str {
        match self {
            MailError::Ses(f) if f.class == ErrorClass::Retryable => "ses_unavailable",
            MailError::Ses(_) => "ses_rejected",
            MailError::Refused(_) => "ses_recipient_refused",
            MailError::Build(_) => "email_build",
        }
    }
    fn dependency(&self) -> Option<&'static str> {
        match self {
            MailError::Ses(_) => Some("ses"),
            // One bad address, or our own template failing to build, is no outage of SES.
            MailError::Refused(_) | MailError::Build(_) => None,
        }
    }
}

#[async_trait]
pub trait Mailer: Send + Sync + 'static {
    async fn send(&self, email: &OutgoingEmail) -> Result<(), MailError>;
}

#[derive(Debug, thiserror::Error)]
pub enum EnqueueError {
    #[error("could not serialise the decision: {0}")]
    Serialise(#[source] serde_json::Error),
    #[error("SQS SendMessage to the decisions queue failed: {0}")]
    Sqs(SdkFailure),
}

impl Classify for EnqueueError {
    fn class(&self) -> ErrorClass {
        match self {
            EnqueueError::Serialise(_) => ErrorClass::Permanent,
            EnqueueError::Sqs(f) => f.class,
        }
    }
    fn kind(&self) -> &'static str {
        match self {
            EnqueueError::Serialise(_) => "decision_serialise",
            EnqueueError::Sqs(_) => "decision_enqueue_failed",
        }
    }
}

/// The FIFO queue the on-prem processor reads: group and deduplication id are
/// the request id.
#[async_trait]
pub trait DecisionQueue: Send + Sync + 'static {
    async fn send(&self, message: &Envelope<DecisionMade>) -> Result<(), EnqueueError>;
}
