//! `GET /users/{user_id}/reports/{report_id}`: where a suspicious-activity report is.

use std::sync::Arc;

use activity::domain::render_time;
use activity::ActivityReader;
use axum::extract::{Path, State};
use axum::Json;
use chrono::{DateTime, Utc};
use reports::ports::ReportReader;
use reports::request::parse_report_id;
use reports::Report;
use serde::Serialize;

use super::{user, Stores};
use crate::auth::Caller;
use crate::error::ApiError;

#[derive(Serialize)]
pub(super) struct ReportView {
    report_id: String,
    status: &'static str,
    event_ids: Vec<String>,
    ticket_id: Option<u64>,
    txma_event_id: Option<String>,
    notification_id: Option<String>,
    timestamps: Timestamps,
    #[serde(skip_serializing_if = "Option::is_none")]
    rejection_reason: Option<String>,
    /// Why the report is stuck in a DLQ (status FAILED), until a redrive moves it on.
    #[serde(skip_serializing_if = "Option::is_none")]
    failure: Option<FailureView>,
}

#[derive(Serialize)]
struct Timestamps {
    reported_at: String,
    requested_at: String,
    ticket_created_at: Option<String>,
    txma_sent_at: Option<String>,
    email_sent_at: Option<String>,
    completed_at: Option<String>,
}

#[derive(Serialize)]
struct FailureView {
    step: String,
    kind: String,
    reason: String,
    at: String,
}

fn time(t: Option<DateTime<Utc>>) -> Option<String> {
    t.map(render_time)
}

impl From<Report> for ReportView {
    fn from(r: Report) -> Self {
        Self {
            status: r.status.as_str(),
            timestamps: Timestamps {
                reported_at: render_time(r.reported_at),
                requested_at: render_time(r.requested_at),
                ticket_created_at: time(r.ticket_created_at),
                txma_sent_at: time(r.txma_sent_at),
                email_sent_at: time(r.email_sent_at),
                completed_at: time(r.completed_at),
            },
            failure: r.failure.map(|f| FailureView {
                step: f.step,
                kind: f.kind,
                reason: f.reason,
                at: render_time(f.at),
            }),
            report_id: r.report_id,
            event_ids: r.event_ids,
            ticket_id: r.ticket_id,
            txma_event_id: r.txma_event_id,
            notification_id: r.notification_id,
            rejection_reason: r.rejection_reason,
        }
    }
}

pub(super) async fn report<R: ActivityReader, P: ReportReader>(
    State(stores): State<Arc<Stores<R, P>>>,
    caller: Caller,
    Path((user_id, report_id)): Path<(String, String)>,
) -> Result<Json<ReportView>, ApiError> {
    let user = user(&caller, &user_id)?;
    let id = parse_report_id(&report_id).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    match stores.reports.get(&id).await? {
        // Someone else's report is "not found", not "forbidden": ids are not confirmed.
        Some(r) if r.user_id == user.as_str() => Ok(Json(r.into())),
        _ => Err(ApiError::NotFound),
    }
}
