//! The capabilities the activity log needs from storage, one small trait each.

use async_trait::async_trait;
use kit::sdk::SdkFailure;
use kit::{Classify, ErrorClass};

use crate::cursor::Cursor;
use crate::domain::{ActivityItem, LoginEvent, ServiceEntry, UserId};

/// What recording a login changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recorded {
    /// False when the event was already in the log (a redelivery): nothing was counted.
    pub new_event: bool,
    /// True when this event is now the service's `last_accessed`.
    pub newest_for_service: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("DynamoDB {operation} failed: {failure}")]
    Sdk { operation: &'static str, failure: SdkFailure },
    #[error("stored item is malformed: {0}")]
    Malformed(String),
    #[error("event id {event_id} was already recorded with different content")]
    EventIdReused { event_id: String },
}

impl Classify for StoreError {
    fn class(&self) -> ErrorClass {
        match self {
            StoreError::Sdk { failure, .. } => failure.class,
            StoreError::Malformed(_) | StoreError::EventIdReused { .. } => ErrorClass::Permanent,
        }
    }
    fn kind(&self) -> &'static str {
        match self {
            StoreError::Sdk { .. } => "activity_store",
            StoreError::Malformed(_) => "activity_item_malformed",
            StoreError::EventIdReused { .. } => "event_id_reused",
        }
    }
}

#[async_trait]
pub trait LoginRecorder: Send + Sync + 'static {
    /// Appends the event to the activity log and folds it into the user's services,
    /// once: a second call with the same event id changes nothing.
    async fn record(&self, event: &LoginEvent) -> Result<Recorded, StoreError>;
}

/// One page of the activity log.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityPage {
    pub items: Vec<ActivityItem>,
    pub next: Option<Cursor>,
}

#[async_trait]
pub trait ActivityReader: Send + Sync + 'static {
    async fn services(&self, user: &UserId) -> Result<Vec<ServiceEntry>, StoreError>;
    async fn activity(&self, user: &UserId, limit: u32, after: Option<Cursor>) -> Result<ActivityPage, StoreError>;
}
