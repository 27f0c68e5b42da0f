//! The use-case layer's error: every step's failure, classified for the runner.

use kit::publisher::PublishError;
use kit::{Classify, ErrorClass};

use crate::clients::http::HttpError;
use crate::ports::StoreError;
use crate::request::InvalidReport;
use crate::txma::TxmaError;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("invalid report: {0}")]
    Invalid(#[from] InvalidReport),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Publish(#[from] PublishError),
    #[error(transparent)]
    Provider(#[from] HttpError),
    #[error(transparent)]
    Txma(#[from] TxmaError),
    #[error("report {report_id} does not exist")]
    NotFound { report_id: String },
    #[error("report id {report_id} was already used for a different report")]
    ReportIdReused { report_id: String },
    #[error("report {report_id} already has ticket {recorded}, not {found}")]
    TicketMismatch { report_id: String, recorded: u64, found: u64 },
    #[error("another attempt is performing the {effect} step for this report")]
    ClaimBusy { effect: &'static str },
}

impl Classify for ReportError {
    fn class(&self) -> ErrorClass {
        match self {
            ReportError::Store(e) => e.class(),
            ReportError::Publish(e) => e.class(),
            ReportError::Provider(e) => e.class(),
            ReportError::Txma(e) => e.class(),
            // Its twin finishes or its claim expires: try again later.
            ReportError::ClaimBusy { .. } => ErrorClass::Retryable,
            ReportError::Invalid(_)
            | ReportError::NotFound { .. }
            | ReportError::ReportIdReused { .. }
            | ReportError::TicketMismatch { .. } => ErrorClass::Permanent,
        }
    }
    fn kind(&self) -> &'static str {
        match self {
            ReportError::Invalid(_) => "invalid_report",
            ReportError::Store(e) => e.kind(),
            ReportError::Publish(e) => e.kind(),
            ReportError::Provider(e) => e.kind(),
            ReportError::Txma(e) => e.kind(),
            ReportError::NotFound { .. } => "report_not_found",
            ReportError::ReportIdReused { .. } => "report_id_reused",
            ReportError::TicketMismatch { .. } => "ticket_mismatch",
            ReportError::ClaimBusy { .. } => "claim_busy",
        }
    }
    fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            ReportError::Provider(e) => e.retry_after(),
            _ => None,
        }
    }
    fn dependency(&self) -> Option<&'static str> {
        match self {
            ReportError::Provider(e) => e.dependency(),
            ReportError::Txma(e) => e.dependency(),
            // DynamoDB and our own topics are not outside providers: their failures
            // already show in the step's own error metrics.
            _ => None,
        }
    }
}
