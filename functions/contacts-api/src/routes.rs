//! Routes: `GET /contacts/{contact_id}` and
//! `GET /contacts[?recording_state=CALL_RECORDED_FAILURE][&from=…][&to=…][&limit=…][&next=…]`.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use chrono::Utc;
use contacts::ports::ContactReader;
use contacts::query::{ListQuery, Listing};
use contacts::time::render;
use contacts::{Channel, Contact, ContactId, Expectation, RecordingState};
use serde_json::{json, Value};
use tracing::info;

use crate::auth::{Operator, OpsRole};
use crate::error::ApiError;

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

/// A contact as the operations team sees it: ids, states, what its flows set and
/// when, and times. Connect's customer details are never stored, so never shown.
fn view(c: &Contact) -> Value {
    let t = |v: Option<chrono::DateTime<Utc>>| v.map(render);
    let first = c.recording_settings.first_enabling();
    let (expected, not_expected_because) = match c.expectation() {
        Expectation::Recorded(_) => (true, None),
        Expectation::NotRecorded(because) => (false, Some(because.as_str())),
    };
    json!({
        "contact_id": c.contact_id.as_str(),
        "instance_id": c.instance_id.as_str(),
        "channel": c.channel.map(Channel::as_str),
        "state": c.state.as_str(),
        "recording_state": c.recording_state.map(RecordingState::as_str),
        "requested": {
            "recording_participants": first.map(|s| s.participants.clone()).unwrap_or_default(),
            "analytics": first.is_some_and(|s| s.analytics),
        },
        // Every recording setting its flows logged, in the order they ran.
        "recording_settings": c.recording_settings.iter().map(|s| json!({
            "at": render(s.at),
            "recording_participants": s.participants,
            "analytics": s.analytics,
        })).collect::<Vec<_>>(),
        // As the settings stand (decided after the call, when the agent's connection time is known).
        "recording_expected": expected,
        "not_expected_because": not_expected_because,
        "recording_key": c.recording_key,
        "closed_reason": c.closed_reason,
        "timestamps": {
            "requested_at": t(first.map(|s| s.at)),
            "initialised_at": render(c.initialised_at),
            "initiated_at": t(c.initiated_at),
            "agent_connected_at": t(c.agent_connected_at),
            "disconnected_at": t(c.disconnected_at),
            "polled_at": t(c.polled_at),
            "poll_claimed_until": t(c.poll_claimed_until),
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

/// Checked calls with this recording state (default CALL_RECORDED_FAILURE), oldest
/// check first; `from` defaults to a day ago, `to` to now.
async fn list<R: ContactReader>(
    State(state): State<Arc<AppState<R>>>,
    operator: Operator,
    Query(q): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let Listing { recording_state, from, to, limit, after } =
        q.parse(Utc::now()).map_err(|e| ApiError::BadRequest(e.to_string()))?;
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
