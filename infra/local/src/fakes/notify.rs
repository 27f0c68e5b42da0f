//! The GOV.UK Notify fake: `POST /v2/notifications/email` and the two GETs
//! that read notifications back, behind Notify's JWT auth. Every email is
//! "delivered" at once; nothing is sent anywhere.

mod auth;
mod request;

use std::sync::{Arc, Mutex, PoisonError};

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use super::faults::{self, Faults};
use super::{base_url, now_timestamp, LOCAL_NOTIFY_SERVICE_ID};
pub use auth::{authorise, AuthError};
pub use request::{EmailRequest, Refusal, Template, LOCAL_TEMPLATE};

/// Notify's page size for `GET /v2/notifications`.
const PAGE_SIZE: usize = 250;
const TEMPLATE_TYPES: &[&str] = &["sms", "email", "letter"];
const STATUSES: &[&str] = &[
    "cancelled",
    "created",
    "sending",
    "sent",
    "delivered",
    "pending",
    "failed",
    "technical-failure",
    "temporary-failure",
    "permanent-failure",
    "pending-virus-check",
    "validation-failed",
    "virus-scan-failed",
    "returned-letter",
    "accepted",
    "received",
];

/// Notifications in the order they were created.
type Outbox = Arc<Mutex<Vec<Value>>>;

/// The API routes (faults applied) and `/__faults`.
pub fn router() -> Router {
    let outbox = Outbox::default();
    let faults = Faults::new(error_for_status);
    Router::new()
        .route("/v2/notifications/email", post(send_email))
        .route("/v2/notifications", get(list))
        .route("/v2/notifications/{id}", get(show))
        .with_state(outbox)
        .layer(from_fn_with_state(faults.clone(), faults::inject))
        .merge(faults::admin_router(faults))
        .fallback(|| async { error(StatusCode::NOT_FOUND, "BadRequestError", "Resource not found") })
}

fn check_auth(headers: &HeaderMap) -> Result<(), AuthError> {
    let authorization = headers.get("authorization").and_then(|v| v.to_str().ok());
    auth::authorise(authorization, chrono::Utc::now().timestamp())
}

/// Notify's `AuthError` body, 401 or 403.
fn refusal(e: &AuthError) -> Response {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::FORBIDDEN);
    error(status, "AuthError", &e.to_string())
}

fn lock(outbox: &Outbox) -> std::sync::MutexGuard<'_, Vec<Value>> {
    outbox.lock().unwrap_or_else(PoisonError::into_inner)
}

async fn send_email(State(outbox): State<Outbox>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(refused) = check_auth(&headers) {
        return refusal(&refused);
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "BadRequestError", "Invalid JSON supplied in POST data");
    };
    let sent = EmailRequest::parse(&body).and_then(|email| {
        let template = request::template(&email.template_id)?;
        let (subject, body) = request::render(&template, &email.personalisation)?;
        Ok((email, template, subject, body))
    });
    let (email, template, subject, rendered) = match sent {
        Ok(s) => s,
        Err(Refusal::Validation(messages)) => {
            let errors: Vec<Value> =
                messages.iter().map(|m| json!({"error": "ValidationError", "message": m})).collect();
            return (StatusCode::BAD_REQUEST, Json(json!({"status_code": 400, "errors": errors}))).into_response();
        }
        Err(Refusal::BadRequest(message)) => return error(StatusCode::BAD_REQUEST, "BadRequestError", &message),
    };
    let base = base_url(&headers);
    let id = uuid::Uuid::new_v4().to_string();
    let template_json = template_json(&template, &base);
    let now = now_timestamp();
    let notification = json!({
        "id": id,
        "reference": email.reference,
        "email_address": email.email_address,
        "phone_number": null,
        "line_1": null, "line_2": null, "line_3": null, "line_4": null, "line_5": null, "line_6": null,
        "postcode": null,
        "postage": null,
        "type": "email",
        "status": "delivered",
        "template": template_json,
        "body": rendered,
        "subject": subject,
        "created_at": now,
        "created_by_name": null,
        "sent_at": now,
        "completed_at": now,
        "scheduled_for": null,
        "one_click_unsubscribe_url": null,
        "is_cost_data_ready": true,
        "cost_in_pounds": 0.0,
        "cost_details": {},
    });
    lock(&outbox).push(notification);
    let response = json!({
        "id": id,
        "reference": email.reference,
        "content": { "subject": subject, "body": rendered, "from_email": "notify@local", "one_click_unsubscribe_url": null },
        "uri": format!("{base}/v2/notifications/{id}"),
        "template": template_json,
        "scheduled_for": null,
    });
    (StatusCode::CREATED, Json(response)).into_response()
}

fn template_json(template: &Template, base: &str) -> Value {
    json!({
        "id": template.id,
        "version": 1,
        "uri": format!("{base}/services/{LOCAL_NOTIFY_SERVICE_ID}/templates/{}", template.id),
    })
}

/// Newest first, filtered by `reference`, `template_type`, `status`
/// (repeatable; `failed` means any failure) and `older_than`, 250 a page.
async fn list(State(outbox): State<Outbox>, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    if let Err(refused) = check_auth(&headers) {
        return refusal(&refused);
    }
    let query = query.unwrap_or_default();
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    let values = |key: &str| -> Vec<&str> { pairs.iter().filter(|(k, _)| k == key).map(|(_, v)| v.as_str()).collect() };
    let mut problems = Vec::new();
    for t in values("template_type") {
        if !TEMPLATE_TYPES.contains(&t) {
            problems.push(format!("template_type {t} is not one of [{}]", TEMPLATE_TYPES.join(", ")));
        }
    }
    for s in values("status") {
        if !STATUSES.contains(&s) {
            problems.push(format!("status {s} is not one of [{}]", STATUSES.join(", ")));
        }
    }
    let older_than = values("older_than").first().map(|s| s.to_string());
    if older_than.as_deref().is_some_and(|id| uuid::Uuid::parse_str(id).is_err()) {
        problems.push("older_than is not a valid UUID".to_owned());
    }
    if !problems.is_empty() {
        let errors: Vec<Value> = problems.iter().map(|m| json!({"error": "ValidationError", "message": m})).collect();
        return (StatusCode::BAD_REQUEST, Json(json!({"status_code": 400, "errors": errors}))).into_response();
    }

    let outbox = lock(&outbox);
    let mut newest_first: Vec<&Value> = outbox.iter().rev().collect();
    if let Some(older_than) = &older_than {
        newest_first = match newest_first.iter().position(|n| n["id"].as_str() == Some(older_than)) {
            Some(at) => newest_first.split_off(at + 1),
            None => Vec::new(),
        };
    }
    let (references, types, statuses) = (values("reference"), values("template_type"), values("status"));
    let page: Vec<Value> = newest_first
        .into_iter()
        .filter(|n| references.is_empty() || references.iter().any(|r| n["reference"].as_str() == Some(r)))
        .filter(|n| types.is_empty() || types.iter().any(|t| n["type"].as_str() == Some(t)))
        .filter(|n| statuses.is_empty() || statuses.iter().any(|s| status_matches(s, &n["status"])))
        .take(PAGE_SIZE)
        .cloned()
        .collect();
    drop(outbox);

    let base = base_url(&headers);
    let current =
        if query.is_empty() { format!("{base}/v2/notifications") } else { format!("{base}/v2/notifications?{query}") };
    let mut links = json!({ "current": current });
    if let Some(last) = page.last().filter(|_| page.len() == PAGE_SIZE).and_then(|n| n["id"].as_str()) {
        let mut next: Vec<(String, String)> = pairs.iter().filter(|(k, _)| k != "older_than").cloned().collect();
        next.push(("older_than".to_owned(), last.to_owned()));
        let next = form_urlencoded::Serializer::new(String::new()).extend_pairs(next).finish();
        links["next"] = json!(format!("{base}/v2/notifications?{next}"));
    }
    Json(json!({ "notifications": page, "links": links })).into_response()
}

/// `failed` stands for every failure status, as in Notify's filter.
fn status_matches(filter: &str, status: &Value) -> bool {
    let status = status.as_str().unwrap_or_default();
    if filter == "failed" {
        return matches!(status, "failed" | "technical-failure" | "temporary-failure" | "permanent-failure");
    }
    filter == status
}

async fn show(State(outbox): State<Outbox>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(refused) = check_auth(&headers) {
        return refusal(&refused);
    }
    if uuid::Uuid::parse_str(&id).is_err() {
        let errors = json!([{"error": "ValidationError", "message": "notification_id is not a valid UUID"}]);
        return (StatusCode::BAD_REQUEST, Json(json!({"status_code": 400, "errors": errors}))).into_response();
    }
    let found = lock(&outbox).iter().find(|n| n["id"].as_str().is_some_and(|n| n.eq_ignore_ascii_case(&id))).cloned();
    match found {
        Some(notification) => Json(notification).into_response(),
        None => error(StatusCode::NOT_FOUND, "NoResultFound", "No result found"),
    }
}

fn error(status: StatusCode, error: &str, message: &str) -> Response {
    let body = json!({ "status_code": status.as_u16(), "errors": [{ "error": error, "message": message }] });
    (status, Json(body)).into_response()
}

/// Notify's body for each status a fault forces.
fn error_for_status(status: StatusCode) -> Response {
    match status.as_u16() {
        400 => error(status, "BadRequestError", "Injected fault"),
        401 => error(status, "AuthError", "Unauthorized: authentication token must be provided"),
        403 => error(status, "AuthError", "Invalid token: API key not found"),
        404 => error(status, "NoResultFound", "No result found"),
        429 => error(status, "RateLimitError", "Exceeded rate limit for key type LIVE of 3000 requests per 60 seconds"),
        _ => error(status, "Exception", "Internal server error"),
    }
}
