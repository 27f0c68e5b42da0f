//! `GET /audit` (search by workflow, actor, or scheme and time) and
//! `GET /audit/verify?workflow_id=` (the chain check). Auditors only.

use ::audit::usecases::{self, SearchParams};
use ::audit::ChainCheck;
use axum::extract::{Query, State};
use axum::Json;
use kit::publisher::EventPublisher;
use serde::Deserialize;
use serde_json::{json, Value};

use super::views::RecordView;
use super::Shared;
use crate::auth::Authenticated;
use crate::error::ApiError;

pub(super) async fn search<P: EventPublisher>(
    State(app): State<Shared<P>>,
    Authenticated(caller): Authenticated,
    Query(params): Query<SearchParams>,
) -> Result<Json<Value>, ApiError> {
    let (_, page) = usecases::search(app.audit.as_ref(), &caller, &params).await?;
    let items: Vec<RecordView> = page.items.into_iter().map(RecordView::from).collect();
    Ok(Json(json!({ "items": items, "next": page.next.map(|c| c.encode()) })))
}

#[derive(Deserialize)]
pub(super) struct VerifyParams {
    workflow_id: Option<String>,
}

pub(super) async fn verify<P: EventPublisher>(
    State(app): State<Shared<P>>,
    Authenticated(caller): Authenticated,
    Query(params): Query<VerifyParams>,
) -> Result<Json<ChainCheck>, ApiError> {
    let id = params.workflow_id.as_deref();
    let check =
        usecases::verify(app.audit.as_ref(), app.workflows.as_ref(), app.trail_key.as_ref(), &caller, id).await?;
    if !check.valid {
        // An auditor asked, but on-call should hear of a broken trail too.
        tracing::warn!(workflow_id = %check.workflow_id, broken_at = ?check.broken_at, reason = ?check.reason, "audit trail does not verify");
    }
    Ok(Json(check))
}
