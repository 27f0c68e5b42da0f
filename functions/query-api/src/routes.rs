//! Routes: `GET /users/{user_id}/services`, `GET /users/{user_id}/activity`, `GET /healthz`.

use std::sync::Arc;

use activity::cursor::Cursor;
use activity::domain::render_time;
use activity::{ActivityReader, UserId};
use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::auth::Caller;
use crate::error::ApiError;

const DEFAULT_LIMIT: u32 = 20;
const MAX_LIMIT: u32 = 100;

pub fn router<R: ActivityReader>(reader: R) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/users/{user_id}/services", get(services::<R>))
        .route("/users/{user_id}/activity", get(activity::<R>))
        .with_state(Arc::new(reader))
        // One EMF document per invocation, as for the SQS steps.
        .layer(axum::middleware::map_response(flush_metrics))
}

async fn flush_metrics(response: axum::response::Response) -> axum::response::Response {
    kit::metrics::flush();
    response
}

async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

fn user(caller: &Caller, raw: &str) -> Result<UserId, ApiError> {
    caller.ensure_is(raw)?;
    UserId::parse(raw).map_err(|e| ApiError::BadRequest(e.to_string()))
}

#[derive(Serialize)]
struct ServiceView {
    service_id: String,
    service_name: String,
    last_accessed: String,
    login_count: u64,
}

/// Seed 001's response shape, newest first.
async fn services<R: ActivityReader>(
    State(reader): State<Arc<R>>,
    caller: Caller,
    Path(user_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let user = user(&caller, &user_id)?;
    let services: Vec<ServiceView> = reader
        .services(&user)
        .await?
        .into_iter()
        .map(|s| ServiceView {
            service_id: s.service_id,
            service_name: s.service_name,
            last_accessed: render_time(s.last_accessed),
            login_count: s.login_count,
        })
        .collect();
    Ok(Json(json!({ "user_id": user.as_str(), "services": services })))
}

#[derive(Deserialize)]
struct PageQuery {
    limit: Option<String>,
    next: Option<String>,
}

#[derive(Serialize)]
struct ActivityView {
    event_id: String,
    service_id: String,
    service_name: String,
    timestamp: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    session_id: Option<String>,
}

/// The activity log, newest first, `limit` items a page, `next` to continue.
async fn activity<R: ActivityReader>(
    State(reader): State<Arc<R>>,
    caller: Caller,
    Path(user_id): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Json<Value>, ApiError> {
    let user = user(&caller, &user_id)?;
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
    let page = reader.activity(&user, limit, after).await?;
    let items: Vec<ActivityView> = page
        .items
        .into_iter()
        .map(|i| ActivityView {
            event_id: i.event_id,
            service_id: i.service_id,
            service_name: i.service_name,
            timestamp: render_time(i.timestamp),
            session_id: i.session_id,
        })
        .collect();
    Ok(Json(json!({
        "user_id": user.as_str(),
        "items": items,
        "next": page.next.map(|c| c.encode()),
    })))
}

#[cfg(test)]
mod tests;
