//! The use-case layer's error: every step's failure, classified for the runner.

use kit::publisher::PublishError;
use kit::{Classify, ErrorClass};

use crate::contact::InvalidId;
use crate::ports::{ArchiveError, DirectoryError, StoreError, WorkQueueError};
use crate::subscription::PayloadError;

#[derive(Debug, thiserror::Error)]
pub enum ContactError {
    #[error("malformed log subscription payload: {0}")]
    Payload(#[from] PayloadError),
    #[error("invalid message: {0}")]
    Invalid(#[from] InvalidId),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Directory(#[from] DirectoryError),
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    #[error(transparent)]
    Queue(#[from] WorkQueueError),
    #[error(transparent)]
    Publish(#[from] PublishError),
}

impl Classify for ContactError {
    fn class(&self) -> ErrorClass {
        match self {
            ContactError::Payload(_) | ContactError::Invalid(_) => ErrorClass::Permanent,
            ContactError::Store(e) => e.class(),
            ContactError::Directory(e) => e.class(),
            ContactError::Archive(e) => e.class(),
            ContactError::Queue(e) => e.class(),
            ContactError::Publish(e) => e.class(),
        }
    }
    fn kind(&self) -> &'static str {
        match self {
            ContactError::Payload(_) => "malformed_payload",
            ContactError::Invalid(_) => "invalid_contact_id",
            ContactError::Store(e) => e.kind(),
            ContactError::Directory(e) => e.kind(),
            ContactError::Archive(e) => e.kind(),
            ContactError::Queue(e) => e.kind(),
            ContactError::Publish(e) => e.kind(),
        }
    }
    fn dependency(&self) -> Option<&'static str> {
        match self {
            ContactError::Directory(e) => e.dependency(),
            // The recording bucket, DynamoDB and our queues are ours, not Connect's.
            _ => None,
        }
    }
}
