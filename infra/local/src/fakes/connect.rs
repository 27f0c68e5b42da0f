//! The Amazon Connect fake: `DescribeContact` on its real path
//! (`GET /contacts/{InstanceId}/{ContactId}`), SigV4-signed requests accepted,
//! answers in Connect's JSON (epoch-second times, `x-amzn-ErrorType` errors), over
//! contacts scripted through `POST /__contacts` with lifecycles (queue → agent →
//! ended, abandoned, queue only) and channels that move on a timer or on demand.
//! DescribeContact's throttling quota is enforced as Connect does (a token bucket,
//! 2 requests a second with a burst of 5 unless `POST /__quota` says otherwise;
//! over it, 429 `ThrottlingException`). Faults as for the other fakes
//! (`POST /__faults`; a 429 is Connect's `ThrottlingException`).

mod quota;
mod script;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use tracing::info;

use super::faults::{self, Faults};
use quota::Quota;
pub use quota::QuotaConfig;
use script::Scripted;
pub use script::{Lifecycle, ScriptRequest, Stage, StageKind};

/// Scripted contacts by id, and what was asked of them.
struct Connect {
    contacts: Mutex<BTreeMap<String, Scripted>>,
    quota: Mutex<Quota>,
    /// Every DescribeContact request, faulted ones included.
    describe_requests: AtomicU64,
    /// Requests answered 429 (over the quota, or a fault).
    throttled: AtomicU64,
    /// Of those, over the quota.
    quota_throttled: AtomicU64,
}

impl Default for Connect {
    fn default() -> Self {
        Self {
            contacts: Mutex::default(),
            quota: Mutex::new(Quota::new(QuotaConfig::default(), Instant::now())),
            describe_requests: AtomicU64::new(0),
            throttled: AtomicU64::new(0),
            quota_throttled: AtomicU64::new(0),
        }
    }
}

type Shared = Arc<Connect>;

fn lock(connect: &Connect) -> std::sync::MutexGuard<'_, BTreeMap<String, Scripted>> {
    connect.contacts.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The API route (faults applied, every request counted), `/__contacts` and `/__faults`.
pub fn router() -> Router {
    let connect = Shared::default();
    let faults = Faults::new(error_for_status);
    let api = Router::new()
        .route("/contacts/{instance_id}/{contact_id}", get(describe))
        .with_state(connect.clone())
        .layer(from_fn_with_state(faults.clone(), faults::inject))
        .layer(from_fn_with_state(connect.clone(), count));
    let control = Router::new()
        .route("/__contacts", get(list).post(script).delete(forget_all))
        .route("/__contacts/{contact_id}/advance", post(advance))
        .route("/__contacts/{contact_id}", axum::routing::delete(forget))
        .route("/__quota", get(quota_config).post(set_quota))
        .with_state(connect);
    api.merge(control)
        .merge(faults::admin_router(faults))
        .fallback(|| async { error(StatusCode::NOT_FOUND, "UnknownOperationException", "Unknown operation") })
}

/// Connect's REST JSON error: the code in `x-amzn-ErrorType`, the text in `Message`.
fn error(status: StatusCode, code: &'static str, message: &str) -> Response {
    let mut response = (status, Json(json!({ "Message": message }))).into_response();
    response.headers_mut().insert("x-amzn-errortype", HeaderValue::from_static(code));
    response
}

/// Connect's answer for a status the fault injector chose.
fn error_for_status(status: StatusCode) -> Response {
    match status.as_u16() {
        429 => error(status, "ThrottlingException", "Rate exceeded"),
        400 => error(status, "InvalidRequestException", "The request is not valid."),
        403 => error(status, "AccessDeniedException", "You do not have sufficient access to perform this action."),
        404 => error(status, "ResourceNotFoundException", "The specified resource was not found."),
        _ => error(
            status,
            "InternalServiceException",
            "Request processing failed because of an error or failure with the service.",
        ),
    }
}

async fn count(State(connect): State<Shared>, request: Request, next: Next) -> Response {
    connect.describe_requests.fetch_add(1, Ordering::SeqCst);
    let response = next.run(request).await;
    if response.status() == StatusCode::TOO_MANY_REQUESTS {
        connect.throttled.fetch_add(1, Ordering::SeqCst);
    }
    response
}

/// The region of a SigV4 `Authorization` header (`Credential=AKID/date/region/connect/aws4_request`),
/// or None when the request is not signed.
fn signed_region(headers: &HeaderMap) -> Option<String> {
    let auth = headers.get("authorization")?.to_str().ok()?;
    let credential = auth.strip_prefix("AWS4-HMAC-SHA256 ")?.split("Credential=").nth(1)?;
    credential.split([',', ' ']).next()?.split('/').nth(2).map(str::to_owned)
}

async fn describe(
    State(connect): State<Shared>,
    Path((instance_id, contact_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let Some(region) = signed_region(&headers) else {
        return error(StatusCode::FORBIDDEN, "MissingAuthenticationTokenException", "Missing Authentication Token");
    };
    if !connect.quota.lock().unwrap_or_else(PoisonError::into_inner).admit(Instant::now()) {
        connect.quota_throttled.fetch_add(1, Ordering::SeqCst);
        return error(StatusCode::TOO_MANY_REQUESTS, "ThrottlingException", "Rate exceeded");
    }
    let now = chrono::Utc::now();
    let mut contacts = lock(&connect);
    match contacts.get_mut(&contact_id).filter(|c| c.instance_id == instance_id) {
        Some(contact) => {
            contact.catch_up(now);
            contact.describe_calls += 1;
            Json(contact.contact(&region)).into_response()
        }
        None => error(StatusCode::NOT_FOUND, "ResourceNotFoundException", "Contact not found"),
    }
}

fn summary(contact: &Scripted) -> Value {
    json!({
        "instance_id": contact.instance_id,
        "contact_id": contact.contact_id,
        "stage": contact.stage(),
        "stages": contact.stages,
        "describe_calls": contact.describe_calls,
    })
}

/// `GET /__contacts`: every scripted contact where it is now, and the request counts.
async fn list(State(connect): State<Shared>) -> Json<Value> {
    let now = chrono::Utc::now();
    let mut contacts = lock(&connect);
    let listed: Vec<Value> = contacts
        .values_mut()
        .map(|c| {
            c.catch_up(now);
            summary(c)
        })
        .collect();
    let quota = connect.quota.lock().unwrap_or_else(PoisonError::into_inner).config();
    Json(json!({
        "contacts": listed,
        "describe_requests": connect.describe_requests.load(Ordering::SeqCst),
        "throttled": connect.throttled.load(Ordering::SeqCst),
        "quota_throttled": connect.quota_throttled.load(Ordering::SeqCst),
        "quota": quota,
    }))
}

/// `GET /__quota`: DescribeContact's quota now.
async fn quota_config(State(connect): State<Shared>) -> Json<QuotaConfig> {
    Json(connect.quota.lock().unwrap_or_else(PoisonError::into_inner).config())
}

/// `POST /__quota`: a new quota, its bucket full.
async fn set_quota(State(connect): State<Shared>, body: Bytes) -> Response {
    let config: QuotaConfig = match serde_json::from_slice(&body) {
        Ok(c) => c,
        Err(e) => return invalid(&e.to_string()),
    };
    if let Err(problem) = config.validate() {
        return invalid(&problem);
    }
    *connect.quota.lock().unwrap_or_else(PoisonError::into_inner) = Quota::new(config, Instant::now());
    info!(?config, "connect fake: DescribeContact quota set");
    Json(config).into_response()
}

/// `POST /__contacts` with one script or a list: the contacts start now (a
/// contact scripted again starts over).
async fn script(State(connect): State<Shared>, body: Bytes) -> Response {
    let requests: Vec<ScriptRequest> = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Array(items)) => match items.into_iter().map(serde_json::from_value).collect() {
            Ok(r) => r,
            Err(e) => return invalid(&e.to_string()),
        },
        Ok(one) => match serde_json::from_value(one) {
            Ok(r) => vec![r],
            Err(e) => return invalid(&e.to_string()),
        },
        Err(e) => return invalid(&e.to_string()),
    };
    let now = chrono::Utc::now();
    let mut scripted = Vec::new();
    for request in &requests {
        match request.stages() {
            Ok(stages) => scripted.push(Scripted::new(request, stages, now)),
            Err(problem) => return invalid(&problem),
        }
    }
    let mut contacts = lock(&connect);
    let listed: Vec<Value> = scripted.iter().map(summary).collect();
    for contact in scripted {
        info!(contact_id = %contact.contact_id, stage = ?contact.stage(), "connect fake: contact scripted");
        contacts.insert(contact.contact_id.clone(), contact);
    }
    (StatusCode::CREATED, Json(json!({ "contacts": listed }))).into_response()
}

/// `POST /__contacts/{id}/advance`: the next stage now.
async fn advance(State(connect): State<Shared>, Path(contact_id): Path<String>) -> Response {
    let mut contacts = lock(&connect);
    let Some(contact) = contacts.get_mut(&contact_id) else {
        return (StatusCode::NOT_FOUND, Json(json!({"error": "no such scripted contact"}))).into_response();
    };
    if !contact.advance(chrono::Utc::now()) {
        return (StatusCode::CONFLICT, Json(json!({"error": "the contact is at its last stage"}))).into_response();
    }
    Json(summary(contact)).into_response()
}

/// `DELETE /__contacts/{id}`: Connect no longer knows the contact.
async fn forget(State(connect): State<Shared>, Path(contact_id): Path<String>) -> StatusCode {
    match lock(&connect).remove(&contact_id) {
        Some(_) => StatusCode::NO_CONTENT,
        None => StatusCode::NOT_FOUND,
    }
}

async fn forget_all(State(connect): State<Shared>) -> StatusCode {
    lock(&connect).clear();
    StatusCode::NO_CONTENT
}

fn invalid(message: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "error": message }))).into_response()
}
