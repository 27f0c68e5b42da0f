//! Routes: `GET /users/{user_id}/services`, `GET /users/{user_id}/activity`,
//! `GET /users/{user_id}/reports/{report_id}`, `GET /healthz`.

mod report;

use std::collections::HashMap;
use std::sync::Arc;

use activity::domain::render_time;
use activity::page::{PageQuery, PageRequest};
use activity::{ActivityReader, UserId};
use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use reports::ports::ReportReader;
use serde::Serialize;
use serde_json::{json, Value};

use crate::auth::Caller;
use crate::error::ApiError;

/// What the routes read from.
pub struct Stores<R, P> {
    pub activity: R,
    pub reports: P,
}

pub fn router<R: ActivityReader, P: ReportReader>(stores: Stores<R, P>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/users/{user_id}/services", get(services::<R, P>))
        .route("/users/{user_id}/activity", get(activity::<R, P>))
        .route("/users/{user_id}/reports/{report_id}", get(report::report::<R, P>))
        .with_state(Arc::new(stores))
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
async fn services<R: ActivityReader, P: ReportReader>(
    State(stores): State<Arc<Stores<R, P>>>,
    caller: Caller,
    Path(user_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let user = user(&caller, &user_id)?;
    let services: Vec<ServiceView> = stores
        .activity
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

#[derive(Serialize)]
struct ActivityView {
    event_id: String,
    service_id: String,
    service_name: String,
    timestamp: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    session_id: Option<String>,
    /// Present once the user reported this event as suspicious.
    #[serde(skip_serializing_if = "Option::is_none")]
    report: Option<ReportMark>,
}

#[derive(Serialize)]
struct ReportMark {
    report_id: String,
    /// The report's status now (REQUESTED … COMPLETED), read from the report itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ticket_id: Option<u64>,
}

/// The activity log, newest first, `limit` items a page, `next` to continue.
async fn activity<R: ActivityReader, P: ReportReader>(
    State(stores): State<Arc<Stores<R, P>>>,
    caller: Caller,
    Path(user_id): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Json<Value>, ApiError> {
    let user = user(&caller, &user_id)?;
    let PageRequest { limit, after } = q.parse().map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let page = stores.activity.activity(&user, limit, after).await?;
    // One batch read for the statuses of the reports on this page.
    let report_ids: Vec<String> = page.items.iter().filter_map(|i| i.report_id.clone()).collect();
    let statuses: HashMap<String, &'static str> = if report_ids.is_empty() {
        HashMap::new()
    } else {
        stores.reports.statuses(&report_ids).await?.into_iter().map(|(id, s)| (id, s.as_str())).collect()
    };
    let items: Vec<ActivityView> = page
        .items
        .into_iter()
        .map(|i| ActivityView {
            report: i.report_id.map(|report_id| ReportMark {
                status: statuses.get(&report_id).copied(),
                report_id,
                ticket_id: i.ticket_id,
            }),
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
