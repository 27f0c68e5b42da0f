//! The on-prem processor's reports through the API: each a conditional write,
//! whose failure is explained by re-reading (and a repeat of the same report by
//! the same attempt is answered as success, so a lost answer can be retried).

use chrono::{DateTime, Utc};
use tracing::info;

use crate::ports::{ExecutionStore, RequestStore};
use crate::rules::{check_begin, check_finish, BeginCheck, ExecutionOutcome, FinishCheck};
use crate::state::{ApprovalRequest, Status};
use crate::ApprovalError;

#[derive(Debug, Clone, PartialEq)]
pub enum BeginAnswer {
    /// EXECUTING is recorded for this attempt: run the action (the request says what).
    Begun(Box<ApprovalRequest>),
    /// Not for this attempt to run: interrupted elsewhere, finished, or not approved.
    Refused(BeginCheck),
    NotFound,
}

pub async fn begin_execution<S: RequestStore + ExecutionStore>(
    store: &S,
    request_id: &str,
    attempt_id: &str,
    now: DateTime<Utc>,
) -> Result<BeginAnswer, ApprovalError> {
    let written = store.begin(request_id, attempt_id, now).await?;
    let Some(req) = store.get(request_id).await? else {
        return Ok(BeginAnswer::NotFound);
    };
    if written {
        info!(request_id, attempt_id, "execution begun");
        return Ok(BeginAnswer::Begun(Box::new(req)));
    }
    Ok(match check_begin(&req, attempt_id) {
        BeginCheck::AlreadyBegun => BeginAnswer::Begun(Box::new(req)),
        // APPROVED again after a failed condition cannot happen (statuses only move
        // forward); answer as "not this attempt's" rather than run without a record.
        BeginCheck::Begin => BeginAnswer::Refused(BeginCheck::NotApproved(req.status)),
        other => BeginAnswer::Refused(other),
    })
}

#[derive(Debug, Clone, PartialEq)]
pub enum FinishAnswer {
    Finished(Box<ApprovalRequest>),
    /// The request is not EXECUTING for this attempt (and did not end this way by it).
    Conflict(Status),
    NotFound,
}

pub async fn finish_execution<S: RequestStore + ExecutionStore>(
    store: &S,
    request_id: &str,
    attempt_id: &str,
    outcome: ExecutionOutcome,
    output: &str,
    now: DateTime<Utc>,
) -> Result<FinishAnswer, ApprovalError> {
    let written = store.finish(request_id, attempt_id, outcome, output, now).await?;
    let Some(req) = store.get(request_id).await? else {
        return Ok(FinishAnswer::NotFound);
    };
    if written {
        info!(request_id, attempt_id, status = outcome.status().as_str(), "execution finished");
        return Ok(FinishAnswer::Finished(Box::new(req)));
    }
    Ok(match check_finish(&req, attempt_id, outcome) {
        FinishCheck::AlreadyFinished => FinishAnswer::Finished(Box::new(req)),
        FinishCheck::Finish => FinishAnswer::Conflict(req.status),
        FinishCheck::Conflict(status) => FinishAnswer::Conflict(status),
    })
}

#[derive(Debug, Clone, PartialEq)]
pub enum RejectionAnswer {
    /// Recorded now, or earlier (a redelivery).
    Recorded,
    NotRejected(Status),
    NotFound,
}

pub async fn record_rejection<S: RequestStore + ExecutionStore>(
    store: &S,
    request_id: &str,
    now: DateTime<Utc>,
) -> Result<RejectionAnswer, ApprovalError> {
    if store.record_rejection(request_id, now).await? {
        info!(request_id, "rejection recorded by the processor; nothing executed");
        return Ok(RejectionAnswer::Recorded);
    }
    Ok(match store.get(request_id).await? {
        None => RejectionAnswer::NotFound,
        Some(req) if req.status == Status::Rejected => RejectionAnswer::Recorded,
        Some(req) => RejectionAnswer::NotRejected(req.status),
    })
}
