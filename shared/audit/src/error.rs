//! The use-case layer's error, classified for the batch runner and mapped to HTTP
//! statuses by the API; plus the input-validation error the parsers return.

use kit::publisher::PublishError;
use kit::{Classify, ErrorClass};

use crate::ports::{ChannelError, SigningError, StoreError};
use crate::workflow::Refusal;

/// Input that can never be accepted as sent (400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidInput(pub String);

impl InvalidInput {
    pub fn new(why: impl Into<String>) -> Self {
        Self(why.into())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("invalid input: {0}")]
    Invalid(#[from] InvalidInput),
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    /// The action is recorded but its event could not be published yet: the next
    /// request on the workflow (a retry) publishes it.
    #[error("action {seq} of workflow {workflow_id} is recorded but not yet announced: {source}")]
    NotAnnounced {
        workflow_id: String,
        seq: u64,
        #[source]
        source: PublishError,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Channel(#[from] ChannelError),
    #[error(transparent)]
    Signing(#[from] SigningError),
    /// Record n links to record n-1's hash: n waits until n-1 is stored.
    #[error("audit record {seq} of workflow {workflow_id} is not stored yet")]
    PredecessorMissing { workflow_id: String, seq: u64 },
    /// A different record holds this (workflow, seq): never overwritten.
    #[error("audit record {seq} of workflow {workflow_id} exists with other content")]
    SeqConflict { workflow_id: String, seq: u64 },
}

impl Classify for AuditError {
    fn class(&self) -> ErrorClass {
        match self {
            AuditError::Store(e) => e.class(),
            AuditError::Channel(e) => e.class(),
            AuditError::Signing(e) => e.class(),
            AuditError::NotAnnounced { .. } | AuditError::PredecessorMissing { .. } | AuditError::Conflict(_) => {
                ErrorClass::Retryable
            }
            AuditError::Invalid(_) | AuditError::Refused(_) | AuditError::NotFound | AuditError::SeqConflict { .. } => {
                ErrorClass::Permanent
            }
        }
    }
    fn kind(&self) -> &'static str {
        match self {
            AuditError::Invalid(_) => "invalid_input",
            AuditError::Refused(Refusal::Forbidden(_)) => "forbidden",
            AuditError::Refused(Refusal::InvalidTransition(_)) => "invalid_transition",
            AuditError::NotFound => "not_found",
            AuditError::Conflict(_) => "conflict",
            AuditError::NotAnnounced { .. } => "not_announced",
            AuditError::Store(e) => e.kind(),
            AuditError::Channel(e) => e.kind(),
            AuditError::Signing(e) => e.kind(),
            AuditError::PredecessorMissing { .. } => "predecessor_missing",
            AuditError::SeqConflict { .. } => "seq_conflict",
        }
    }
}
