//! What the use cases need from the outside world, one small trait per job.

use async_trait::async_trait;
use kit::sdk::SdkFailure;
use kit::{Classify, ErrorClass};

use crate::cursor::{AuditCursor, NotificationCursor};
use crate::notification::Notification;
use crate::record::AuditRecord;
use crate::workflow::Workflow;

/// Store failures: the kit's one enum for DynamoDB-backed stores.
pub use kit::store::StoreError;

/// The real-time channel (AWS IoT) failed.
#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    #[error("IoT Publish failed: {0}")]
    Publish(SdkFailure),
}

impl Classify for ChannelError {
    fn class(&self) -> ErrorClass {
        match self {
            ChannelError::Publish(f) => f.class,
        }
    }
    fn kind(&self) -> &'static str {
        "realtime_publish_failed"
    }
}

/// The trail's KMS signing key failed.
#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    #[error("KMS {operation} failed: {failure}")]
    Kms { operation: &'static str, failure: SdkFailure },
    #[error(transparent)]
    BadKey(#[from] crate::signing::BadPublicKey),
}

impl Classify for SigningError {
    fn class(&self) -> ErrorClass {
        match self {
            SigningError::Kms { failure, .. } => failure.class,
            SigningError::BadKey(_) => ErrorClass::Permanent,
        }
    }
    fn kind(&self) -> &'static str {
        match self {
            SigningError::Kms { failure, .. } if failure.class == ErrorClass::Retryable => "kms_unavailable",
            SigningError::Kms { .. } => "kms_refused",
            SigningError::BadKey(_) => "bad_signing_key",
        }
    }
}

/// Signs audit records with the trail's key (only the audit step may).
#[async_trait]
pub trait RecordSigner: Send + Sync + 'static {
    async fn sign(&self, record_hash: &str) -> Result<crate::signing::RecordSignature, SigningError>;
}

/// The trail's public key, for verifiers (who cannot sign).
#[async_trait]
pub trait TrustedKeySource: Send + Sync + 'static {
    async fn trusted_key(&self) -> Result<crate::signing::TrustedKey, SigningError>;
}

/// The workflow items: the state machine's memory and the action sequence.
#[async_trait]
pub trait WorkflowStore: Send + Sync + 'static {
    async fn get(&self, workflow_id: &str) -> Result<Option<Workflow>, StoreError>;
    /// Puts a new workflow unless its id exists. True if created.
    async fn create(&self, workflow: &Workflow) -> Result<bool, StoreError>;
    /// Replaces `expected` by `next` only if the stored item is still in
    /// `expected`'s state, at its seq, and announced (one conditional write). True if applied.
    async fn apply(&self, expected: &Workflow, next: &Workflow) -> Result<bool, StoreError>;
    /// Records that action `seq`'s event was published (never moves backwards).
    async fn mark_announced(&self, workflow_id: &str, seq: u64) -> Result<(), StoreError>;
}

/// An operator's redrive of a workflow's announcement.
#[async_trait]
pub trait RedriveLog: Send + Sync + 'static {
    /// Records, in one write, that action `seq` is announced and that `redrive` did
    /// it. False (nothing written) if it was announced already.
    async fn announced_by_redrive(
        &self,
        workflow_id: &str,
        seq: u64,
        redrive: &kit::redrive::Redrive,
    ) -> Result<bool, StoreError>;
}

/// What appending found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Appended {
    Stored,
    /// A record holds this (workflow, seq) already: it is returned, never overwritten.
    Exists(Box<AuditRecord>),
}

/// The append-only audit table, as the audit step writes it: put-if-absent and read.
#[async_trait]
pub trait AuditLog: Send + Sync + 'static {
    async fn get(&self, workflow_id: &str, seq: u64) -> Result<Option<AuditRecord>, StoreError>;
    async fn append(&self, record: &AuditRecord) -> Result<Appended, StoreError>;
}

/// The fixed searches (each served by the table or one of its indexes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditQuery {
    /// A workflow's records, in chain order.
    Workflow { workflow_id: String },
    /// Everything one user did, oldest first.
    Actor { actor: String },
    /// A scheme's records with `from <= at <= to` (rendered times), oldest first.
    Scheme { scheme: String, from: String, to: String },
}

#[derive(Debug, Clone, PartialEq)]
pub struct AuditPage {
    pub items: Vec<AuditRecord>,
    pub next: Option<AuditCursor>,
}

/// The auditors' view of the audit table.
#[async_trait]
pub trait AuditReader: Send + Sync + 'static {
    async fn search(&self, query: &AuditQuery, limit: u32, after: Option<AuditCursor>)
        -> Result<AuditPage, StoreError>;
    /// Every record of a workflow, in seq order (for the chain check).
    async fn chain(&self, workflow_id: &str) -> Result<Vec<AuditRecord>, StoreError>;
}

/// The notification step's writes.
#[async_trait]
pub trait NotificationStore: Send + Sync + 'static {
    /// Puts the notification unless it exists; returns the existing one if it does.
    async fn put(&self, notification: &Notification) -> Result<Option<Notification>, StoreError>;
    /// Sets `published_at` unless set.
    async fn mark_published(&self, user_id: &str, notification_id: &str, at: &str) -> Result<(), StoreError>;
}

#[derive(Debug, Clone, PartialEq)]
pub struct NotificationPage {
    pub items: Vec<Notification>,
    pub next: Option<NotificationCursor>,
}

/// A user's view of their notifications.
#[async_trait]
pub trait NotificationReader: Send + Sync + 'static {
    /// Newest first.
    async fn list(
        &self,
        user_id: &str,
        limit: u32,
        after: Option<NotificationCursor>,
    ) -> Result<NotificationPage, StoreError>;
    async fn unread_count(&self, user_id: &str) -> Result<u64, StoreError>;
    /// Marks it read (first read time kept); `None` if the user has no such notification.
    async fn mark_read(
        &self,
        user_id: &str,
        notification_id: &str,
        at: &str,
    ) -> Result<Option<Notification>, StoreError>;
}

/// Pushes a message to subscribers of a topic (AWS IoT Core's MQTT broker).
#[async_trait]
pub trait RealtimeChannel: Send + Sync + 'static {
    async fn publish(&self, topic: &str, payload: Vec<u8>) -> Result<(), ChannelError>;
}
