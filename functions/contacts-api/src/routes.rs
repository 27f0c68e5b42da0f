//! Routes: `GET /contacts/{contact_id}` and
//! `GET /contacts[?recording_state=CALL_RECORDED_FAILURE][&from=…][&to=…][&limit=…][&next=…]`.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{Duration, Utc};
use contacts::dynamo::Cursor;
use contacts::ports::ContactReader;
use contacts::time::{parse, render};
use contacts::{Contact, ContactId, RecordingState};
use serde::Deserialize;
use serde_json::{json, Value};
use tracing::info;

use crate::auth::{Operator, OpsRole};
use crate::error::ApiError;

const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 100;

pub struct AppState<R> {
    pub reader: R,
    pub ops: OpsRole,
}

pub fn router<R: ContactReader>(reader: R, ops: OpsRole) -> Router {
    Router::new()
        .route("/contacts/{contact_id}", get(contact::<R>))
        .route("/contacts", get(list::<R>))
        .with_state(Arc::new(AppState { reader, ops }))
        // One EMF document per invocation, as for the SQS steps.
        .layer(axum::middleware::map_response(flush_metrics))
}

async fn flush_metrics(response: axum::response::Response) -> axum::response::Response {
    kit::metrics::flush();
    response
}

/// A contact as the operations team sees it: ids, states and times. Connect's
/// customer details are never stored, so never shown.
fn view(c: &Contact) -> Value {
    let t = |v: Option<chrono::DateTime<Utc>>| v.map(render);
    json!({
        "contact_id": c.contact_id.as_str(),
        "instance_id": c.instance_id.as_str(),
        "state": c.state.as_str(),
        "recording_state": c.recording_state.map(RecordingState::as_str),
        "requested": {
            "recording_participants": c.requested.participants,
            "analytics": c.requested.analytics,
        },
        "recording_key": c.recording_key,
        "closed_reason": c.closed_reason,
        "timestamps": {
            "requested_at": t(c.requested.requested_at),
            "initialised_at": render(c.initialised_at),
            "initiated_at": t(c.initiated_at),
            "agent_connected_at": t(c.agent_connected_at),
            "disconnected_at": t(c.disconnected_at),
            "polled_at": t(c.polled_at),
            "recording_checked_at": t(c.recording_checked_at),
            "alert_sent_at": t(c.alert_sent_at),
            "updated_at": render(c.updated_at),
        },
    })
}

async fn contact<R: ContactReader>(
    State(state): State<Arc<AppState<R>>>,
    operator: Operator,
    Path(contact_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = ContactId::parse(&contact_id).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    info!(operator = %operator.sub, correlation_id = %id, "contact read");
    let found = state.reader.get(&id).await?.ok_or(ApiError::NotFound)?;
    Ok(Json(view(&found)))
}

#[derive(Deserialize)]
struct ListQuery {
    recording_state: Option<String>,
    from: Option<String>,
    to: Option<String>,
    limit: Option<String>,
    next: Option<String>,
}

/// Checked calls with this recording state (default CALL_RECORDED_FAILURE), oldest
/// check first; `from` defaults to a day ago, `to` to now.
async fn list<R: ContactReader>(
    State(state): State<Arc<AppState<R>>>,
    operator: Operator,
    Query(q): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    // The question the operations team asks most: which calls were not recorded.
    let recording_state = match q.recording_state.as_deref().filter(|s| !s.is_empty()) {
        None => RecordingState::Missing,
        Some(raw) => RecordingState::parse(raw).ok_or_else(|| {
            ApiError::BadRequest("recording_state must be CALL_RECORDED_SUCCESS or CALL_RECORDED_FAILURE".into())
        })?,
    };
    let time = |name: &str, raw: Option<&str>, default| match raw.filter(|s| !s.is_empty()) {
        None => Ok(default),
        Some(text) => parse(text).ok_or_else(|| ApiError::BadRequest(format!("{name} must be an RFC 3339 time"))),
    };
    let now = Utc::now();
    let from = time("from", q.from.as_deref(), now - Duration::days(1))?;
    let to = time("to", q.to.as_deref(), now)?;
    if to < from {
        return Err(ApiError::BadRequest("to must not be before from".into()));
    }
    let limit = match q.limit.as_deref() {
        None | Some("") => DEFAULT_LIMIT,
        Some(raw) => match raw.parse::<u32>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => return Err(ApiError::BadRequest(format!("limit must be a whole number from 1 to {MAX_LIMIT}"))),
        },
    };
    let after = match q.next.as_deref() {
        None | Some("") => None,
        Some(text) => Some(Cursor::decode(text).map_err(|e| ApiError::BadRequest(e.to_string()))?),
    };
    info!(operator = %operator.sub, recording_state = recording_state.as_str(), "contacts listed");
    let page = state.reader.by_recording_state(recording_state, from, to, limit, after).await?;
    Ok(Json(json!({
        "recording_state": recording_state.as_str(),
        "from": render(from),
        "to": render(to),
        "items": page.items.iter().map(view).collect::<Vec<_>>(),
        "next": page.next.map(|c| c.encode()),
    })))
}

#[cfg(test)]
mod tests;
