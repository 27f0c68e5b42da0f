//! `POST /workflows`, `GET /workflows/{id}`, `POST /workflows/{id}/actions`.

use ::audit::request::{ActionBody, NewWorkflowBody};
use ::audit::usecases;
use ::audit::workflow::may_create;
use ::audit::AuditError;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use kit::publisher::EventPublisher;
use serde_json::{json, Value};

use super::views::WorkflowView;
use super::{json_body, Correlation, Shared};
use crate::auth::Authenticated;
use crate::error::ApiError;

fn accepted(a: &usecases::Accepted) -> Value {
    let action = a.workflow.last_event.as_ref().map(|e| {
        json!({"seq": e.payload.seq, "action": e.payload.action.as_str(), "at": ::audit::time::render(e.payload.at)})
    });
    json!({ "workflow": WorkflowView::from(&a.workflow), "action": action, "replayed": a.replayed })
}

pub(super) async fn create<P: EventPublisher>(
    State(app): State<Shared<P>>,
    Authenticated(caller): Authenticated,
    Correlation(correlation_id): Correlation,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    // Who before what: a caller without the role learns nothing about their body.
    may_create(&caller).map_err(AuditError::from)?;
    let body: NewWorkflowBody = json_body(&body).map_err(AuditError::from)?;
    let ctx = app.context(correlation_id);
    let done = usecases::create_workflow(app.workflows.as_ref(), &app.publisher, &caller, body, &ctx).await?;
    let status = if done.replayed { StatusCode::OK } else { StatusCode::CREATED };
    Ok((status, Json(accepted(&done))))
}

pub(super) async fn get<P: EventPublisher>(
    State(app): State<Shared<P>>,
    Authenticated(caller): Authenticated,
    Path(workflow_id): Path<String>,
) -> Result<Json<WorkflowView>, ApiError> {
    let wf = usecases::view(app.workflows.as_ref(), &app.publisher, &caller, &workflow_id).await?;
    Ok(Json(WorkflowView::from(&wf)))
}

pub(super) async fn act<P: EventPublisher>(
    State(app): State<Shared<P>>,
    Authenticated(caller): Authenticated,
    Correlation(correlation_id): Correlation,
    Path(workflow_id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let body = json_body::<ActionBody>(&body);
    let ctx = app.context(correlation_id);
    let done = usecases::act(app.workflows.as_ref(), &app.publisher, &caller, &workflow_id, body, &ctx).await?;
    Ok(Json(accepted(&done)))
}
