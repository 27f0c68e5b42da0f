//! What the contact use cases need from the outside world, one small trait each.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kit::sdk::SdkFailure;
use kit::{Classify, Envelope, ErrorClass, Message};

use crate::contact::{Contact, ContactId, InstanceId};
use crate::state::{ContactState, RecordingState};
use crate::view::ContactView;

/// Store failures: the kit's one enum for DynamoDB-backed stores.
pub use kit::store::StoreError;

/// What caching a contact found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cached {
    Created,
    /// Cached before; recording settings it did not hold were added (a later
    /// block of its flow, in this or another delivery).
    Updated,
    /// Cached before with every one of these settings (a replayed log batch): unchanged.
    AlreadyCached,
}

/// The workflow's state, one item per contact. Every write is conditional: it
/// happens only if it moves the contact forward.
#[async_trait]
pub trait ContactStore: Send + Sync + 'static {
    /// Puts the contact as INITIALISED unless it exists; if it exists, adds the
    /// recording settings it does not hold yet (a set: order and replays do not
    /// matter), and puts a contact whose flows had only turned recording off on
    /// the sweep once a setting turns it on.
    async fn initialise(&self, contact: &Contact) -> Result<Cached, StoreError>;
    async fn get(&self, id: &ContactId) -> Result<Option<Contact>, StoreError>;
    /// Moves the contact to `next` with what Connect said, if that is forward, and
    /// ends its poll claim. True if it moved.
    async fn advance(
        &self,
        id: &ContactId,
        next: ContactState,
        view: &ContactView,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// A poll that changed nothing: notes when, and ends the poll claim (so the
    /// next sweep may send another).
    async fn polled(&self, id: &ContactId, now: DateTime<Utc>) -> Result<(), StoreError>;
    /// A contact that is not a voice call: RECORDING_NOT_APPLICABLE, off the sweep,
    /// unless a recording state is already set. True if this call set it.
    async fn not_applicable(&self, id: &ContactId, view: &ContactView, now: DateTime<Utc>) -> Result<bool, StoreError>;
    /// CLOSED with a reason (never polled again), unless already closed.
    async fn close(&self, id: &ContactId, reason: &str, now: DateTime<Utc>) -> Result<bool, StoreError>;
    /// Sets the recording state of a COMPLETED - AGENT contact once (a contact
    /// marked missing stays on the sweep until its alert is out). True if this call set it.
    async fn record_recording(
        &self,
        id: &ContactId,
        state: RecordingState,
        key: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Claims the right to send a missing recording's alert until `until`, unless it
    /// was sent or another attempt holds an unexpired claim. True if this call holds it.
    async fn claim_alert(&self, id: &ContactId, now: DateTime<Utc>, until: DateTime<Utc>) -> Result<bool, StoreError>;
    /// Gives a claim up after a failed publish, so the retry need not wait for it to expire.
    async fn release_alert(&self, id: &ContactId) -> Result<(), StoreError>;
    /// Notes the alert as sent (and takes the contact off the sweep). True if this call did.
    async fn mark_alerted(&self, id: &ContactId, now: DateTime<Utc>) -> Result<bool, StoreError>;
}

/// One page of ids from an index.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Opaque: where the next page starts.
    pub next: Option<crate::dynamo::Cursor>,
}

/// What the sweep needs to choose whom to poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollCandidate {
    pub contact_id: ContactId,
    pub polled_at: Option<DateTime<Utc>>,
    pub poll_claimed_until: Option<DateTime<Utc>>,
}

/// The sweep's view: contacts with work left, by state, from a sparse index.
#[async_trait]
pub trait PendingContacts: Send + Sync + 'static {
    async fn pending(
        &self,
        state: ContactState,
        after: Option<crate::dynamo::Cursor>,
        limit: u32,
    ) -> Result<Page<ContactId>, StoreError>;
    /// When each was last polled and whether a poll message is out for it (contacts
    /// gone since are left out).
    async fn poll_candidates(&self, ids: &[ContactId]) -> Result<Vec<PollCandidate>, StoreError>;
    /// Claims the right to send this contact's poll message until `until`, unless a
    /// claim is held (a message is out) or its work is done. True if this call holds it.
    async fn claim_poll(&self, id: &ContactId, now: DateTime<Utc>, until: DateTime<Utc>) -> Result<bool, StoreError>;
    /// Gives up a claim whose message could not be sent.
    async fn unclaim_poll(&self, id: &ContactId, until: DateTime<Utc>) -> Result<(), StoreError>;
    /// Deletes finished contacts (COMPLETED - QUEUE/IVR: nothing to check).
    async fn delete(&self, ids: &[ContactId]) -> Result<(), StoreError>;
}

/// The operations API's view.
#[async_trait]
pub trait ContactReader: Send + Sync + 'static {
    async fn get(&self, id: &ContactId) -> Result<Option<Contact>, StoreError>;
    /// Contacts with this recording state checked in `[from, to)`, oldest first.
    async fn by_recording_state(
        &self,
        state: RecordingState,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u32,
        after: Option<crate::dynamo::Cursor>,
    ) -> Result<Page<Contact>, StoreError>;
}

#[derive(Debug, thiserror::Error)]
pub enum WorkQueueError {
    #[error("SQS SendMessageBatch failed: {0}")]
    Sdk(SdkFailure),
    #[error("SQS refused {count} message(s): {reason}")]
    Refused { count: usize, reason: String },
    #[error("could not serialise a message: {0}")]
    Serialise(#[source] serde_json::Error),
}

impl Classify for WorkQueueError {
    fn class(&self) -> ErrorClass {
        match self {
            WorkQueueError::Sdk(f) => f.class,
            // A refused entry (throttled, or the queue being purged) is worth another sweep.
            WorkQueueError::Refused { .. } => ErrorClass::Retryable,
            WorkQueueError::Serialise(_) => ErrorClass::Permanent,
        }
    }
    fn kind(&self) -> &'static str {
        match self {
            WorkQueueError::Sdk(_) => "sqs_send_failed",
            WorkQueueError::Refused { .. } => "sqs_send_refused",
            WorkQueueError::Serialise(_) => "message_serialise",
        }
    }
}

/// A step queue the sweep feeds.
#[async_trait]
pub trait WorkQueue: Send + Sync + 'static {
    /// Sends every message (in as few requests as the queue allows).
    async fn send<M: Message>(&self, messages: &[Envelope<M>]) -> Result<(), WorkQueueError>;
}

#[async_trait]
impl<T: WorkQueue> WorkQueue for std::sync::Arc<T> {
    async fn send<M: Message>(&self, messages: &[Envelope<M>]) -> Result<(), WorkQueueError> {
        (**self).send(messages).await
    }
}

/// The log subscription's heartbeat: when it last delivered, and the watch's own
/// marks (see [`crate::usecases::watch_flow_logs`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Heartbeat {
    pub last_delivery_at: Option<DateTime<Utc>>,
    pub last_watch_at: Option<DateTime<Utc>>,
    pub watching_since: Option<DateTime<Utc>>,
}

#[async_trait]
pub trait FlowLogHeartbeat: Send + Sync + 'static {
    /// Notes a delivery (never moves the time backwards).
    async fn delivered(&self, log_group: &str, at: DateTime<Utc>) -> Result<(), StoreError>;
    async fn heartbeat(&self) -> Result<Heartbeat, StoreError>;
    /// Notes a watch and the start of its current watching window.
    async fn watched(&self, at: DateTime<Utc>, watching_since: DateTime<Utc>) -> Result<(), StoreError>;
}

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    /// Connect's API limits are low: back off and come back.
    #[error("Connect throttled DescribeContact: {0}")]
    Throttled(SdkFailure),
    #[error("Connect DescribeContact failed: {0}")]
    Sdk(SdkFailure),
}

impl Classify for DirectoryError {
    fn class(&self) -> ErrorClass {
        match self {
            DirectoryError::Throttled(_) => ErrorClass::Retryable,
            DirectoryError::Sdk(f) => f.class,
        }
    }
    fn kind(&self) -> &'static str {
        match self {
            DirectoryError::Throttled(_) => "connect_throttled",
            DirectoryError::Sdk(f) if f.class == ErrorClass::Retryable => "connect_unavailable",
            DirectoryError::Sdk(_) => "connect_rejected",
        }
    }
    fn dependency(&self) -> Option<&'static str> {
        // Every variant is a DescribeContact call to Amazon Connect failing.
        Some("connect")
    }
}

/// What Connect said about a contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Described {
    Found(ContactView),
    /// ResourceNotFoundException: Connect does not know the contact (any more).
    Unknown {
        reason: String,
    },
}

/// Amazon Connect, as the poll step needs it.
#[async_trait]
pub trait ContactDirectory: Send + Sync + 'static {
    async fn describe(&self, instance: &InstanceId, contact: &ContactId) -> Result<Described, DirectoryError>;
}

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("S3 ListObjectsV2 failed: {0}")]
    Sdk(SdkFailure),
}

impl Classify for ArchiveError {
    fn class(&self) -> ErrorClass {
        match self {
            ArchiveError::Sdk(f) => f.class,
        }
    }
    fn kind(&self) -> &'static str {
        match self {
            ArchiveError::Sdk(f) if f.class == ErrorClass::Retryable => "s3_unavailable",
            ArchiveError::Sdk(_) => "s3_rejected",
        }
    }
}

/// The recording bucket.
#[async_trait]
pub trait RecordingArchive: Send + Sync + 'static {
    /// The first object under any of the prefixes.
    async fn find(&self, prefixes: &[String]) -> Result<Option<String>, ArchiveError>;
}
