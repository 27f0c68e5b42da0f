//! The use-case layer's error, classified for the batch runner and mapped to
//! responses by the API.

use kit::publisher::PublishError;
use kit::{Classify, ErrorClass};

use crate::ports::{EnqueueError, MailError, StoreError};
use crate::request::InvalidRequest;
use crate::token::RandomUnavailable;

#[derive(Debug, thiserror::Error)]
pub enum ApprovalError {
    #[error(transparent)]
    Invalid(#[from] InvalidRequest),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Publish(#[from] PublishError),
    #[error(transparent)]
    Mail(#[from] MailError),
    #[error(transparent)]
    Enqueue(#[from] EnqueueError),
    #[error(transparent)]
    Random(#[from] RandomUnavailable),
    #[error("approval request {request_id} does not exist")]
    NotFound { request_id: String },
    #[error("request id {request_id} was already used for a different request")]
    RequestIdReused { request_id: String },
    #[error("approval request {request_id} has no decision")]
    NotDecided { request_id: String },
    #[error("another attempt is doing the {effect} step for this request")]
    ClaimBusy { effect: &'static str },
}

impl Classify for ApprovalError {
    fn class(&self) -> ErrorClass {
        match self {
            ApprovalError::Store(e) => e.class(),
            ApprovalError::Publish(e) => e.class(),
            ApprovalError::Mail(e) => e.class(),
            ApprovalError::Enqueue(e) => e.class(),
            ApprovalError::Random(_) | ApprovalError::ClaimBusy { .. } => ErrorClass::Retryable,
            ApprovalError::Invalid(_)
            | ApprovalError::NotFound { .. }
            | ApprovalError::RequestIdReused { .. }
            | ApprovalError::NotDecided { .. } => ErrorClass::Permanent,
        }
    }
    fn kind(&self) -> &'static str {
        match self {
            ApprovalError::Invalid(_) => "invalid_request",
            ApprovalError::Store(e) => e.kind(),
            ApprovalError::Publish(e) => e.kind(),
            ApprovalError::Mail(e) => e.kind(),
            ApprovalError::Enqueue(e) => e.kind(),
            ApprovalError::Random(_) => "random_unavailable",
            ApprovalError::NotFound { .. } => "request_not_found",
            ApprovalError::RequestIdReused { .. } => "request_id_reused",
            ApprovalError::NotDecided { .. } => "not_decided",
            ApprovalError::ClaimBusy { .. } => "claim_busy",
        }
    }
    fn dependency(&self) -> Option<&'static str> {
        match self {
            ApprovalError::Mail(e) => e.dependency(),
            // DynamoDB, our topics and our own queues are not outside providers.
            _ => None,
        }
    }
}
