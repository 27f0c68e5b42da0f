//! The on-prem service's routes (IAM-authorised, JSON).

use std::sync::Arc;

use approvals::report::ExecutionReport;
use approvals::request::RequestId;
use approvals::rules::BeginCheck;
use approvals::usecases::{self, BeginAnswer, FinishAnswer, RejectionAnswer};
use approvals::view::RequestView;
use approvals::Submission;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use kit::clock::Clock;
use kit::publisher::EventPublisher;
use serde_json::{json, Value};
use tracing::info;

use super::{App, Store};
use crate::auth::{Correlation, Service};
use crate::callers::Purpose;
use crate::error::{from_domain, ApiError};

fn json_body<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    approvals::body::json_body(body).map_err(|e| ApiError::BadRequest(e.to_string()))
}

/// Refuses a caller this route's allow-list does not admit.
fn admit<S, P, C>(app: &App<S, P, C>, service: &Service, purpose: Purpose) -> Result<(), ApiError> {
    if app.callers.may(purpose, &service.principal) {
        return Ok(());
    }
    tracing::warn!(caller = %service.principal, ?purpose, "caller not allowed");
    Err(ApiError::NotAllowed { caller: service.principal.clone(), what: purpose.describe() })
}

fn request_id(raw: &str) -> Result<RequestId, ApiError> {
    RequestId::parse(raw).ok_or_else(|| ApiError::BadRequest("malformed request id".into()))
}

/// `POST /approval-requests`: 201 with the stored request, or 200 for a retry of one.
pub async fn create<S: Store, P: EventPublisher, C: Clock>(
    State(app): State<Arc<App<S, P, C>>>,
    service: Service,
    Correlation(correlation_id): Correlation,
    body: Bytes,
) -> Result<(StatusCode, Json<RequestView>), ApiError> {
    admit(&app, &service, Purpose::Service)?;
    let submission: Submission = json_body(&body)?;
    let now = app.clock.now();
    let out = usecases::create_request(&app.store, &app.requested, submission, &correlation_id, now, app.outbox_delay)
        .await
        .map_err(from_domain)?;
    info!(request_id = %out.request.request_id, caller = %service.principal, created = out.created, "create request");
    let status = if out.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(RequestView::of(&out.request, now))))
}

/// `GET /approval-requests/{request_id}`: status, decision, execution, history.
pub async fn show<S: Store, P: EventPublisher, C: Clock>(
    State(app): State<Arc<App<S, P, C>>>,
    service: Service,
    Path(raw_id): Path<String>,
) -> Result<Json<RequestView>, ApiError> {
    admit(&app, &service, Purpose::Service)?;
    let id = request_id(&raw_id)?;
    let req = app.store.get(id.as_str()).await.map_err(|e| ApiError::Internal(e.into()))?.ok_or(ApiError::NotFound)?;
    Ok(Json(RequestView::of(&req, app.clock.now())))
}

/// `POST /approval-requests/{request_id}/execution` with
/// `{"state": "EXECUTING" | "EXECUTED" | "FAILED" | "REJECTION_RECORDED", "attempt_id", "output"?}`.
/// EXECUTING answers the request (what to run) when this attempt may run it, 409 otherwise.
pub async fn execution<S: Store, P: EventPublisher, C: Clock>(
    State(app): State<Arc<App<S, P, C>>>,
    service: Service,
    Path(raw_id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    admit(&app, &service, Purpose::Processor)?;
    let id = request_id(&raw_id)?;
    let id = id.as_str();
    let report = ExecutionReport::parse(&body).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let now = app.clock.now();
    info!(request_id = id, caller = %service.principal, state = report.state(), "execution report");
    let view = |req: &approvals::ApprovalRequest| serde_json::to_value(RequestView::of(req, now)).unwrap_or_default();
    let internal = |e: approvals::ApprovalError| ApiError::Internal(e);
    match report {
        ExecutionReport::Executing { attempt_id } => {
            match usecases::begin_execution(&app.store, id, &attempt_id, now).await.map_err(internal)? {
                BeginAnswer::Begun(req) => Ok(Json(view(&req))),
                BeginAnswer::NotFound => Err(ApiError::NotFound),
                BeginAnswer::Refused(check) => Err(ApiError::Conflict(begin_conflict(&check))),
            }
        }
        ExecutionReport::Finished { attempt_id, outcome, output } => {
            match usecases::finish_execution(&app.store, id, &attempt_id, outcome, &output, now)
                .await
                .map_err(internal)?
            {
                FinishAnswer::Finished(req) => Ok(Json(view(&req))),
                FinishAnswer::NotFound => Err(ApiError::NotFound),
                FinishAnswer::Conflict(status) => Err(ApiError::Conflict(json!({
                    "error": "not_executing",
                    "status": status.as_str(),
                    "message": "the request is not executing under this attempt",
                }))),
            }
        }
        ExecutionReport::RejectionRecorded => {
            match usecases::record_rejection(&app.store, id, now).await.map_err(internal)? {
                RejectionAnswer::Recorded => Ok(Json(json!({"status": "REJECTED", "recorded": true}))),
                RejectionAnswer::NotFound => Err(ApiError::NotFound),
                RejectionAnswer::NotRejected(status) => Err(ApiError::Conflict(json!({
                    "error": "not_rejected",
                    "status": status.as_str(),
                    "message": "only a rejected request can have its rejection recorded",
                }))),
            }
        }
    }
}

/// Why this attempt may not run the action, for the processor to act on.
fn begin_conflict(check: &BeginCheck) -> Value {
    match check {
        BeginCheck::Interrupted { attempt_id, started_at } => json!({
            "error": "interrupted",
            "status": "EXECUTING",
            "attempt_id": attempt_id,
            "started_at": started_at,
            "message": "another attempt began this execution and never reported its end",
        }),
        BeginCheck::Finished(status) => json!({
            "error": "finished",
            "status": status.as_str(),
            "message": "the execution has ended already",
        }),
        BeginCheck::NotApproved(status) => json!({
            "error": "not_approved",
            "status": status.as_str(),
            "message": "only an approved request can be executed",
        }),
        BeginCheck::Begin | BeginCheck::AlreadyBegun => json!({"error": "conflict", "message": "try again"}),
    }
}
