//! The Lambda Runtime API one function process talks to:
//! `GET /invocation/next`, `POST /invocation/{id}/response|error`, `POST /init/error`.
//! Documented at docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, warn};

use super::{service_error, FunctionShared, InvokeOutcome};

/// What the runtime API tells the supervisor of its process.
#[derive(Debug)]
pub enum InstanceEvent {
    /// The first `/next` arrived at this instant: init is over.
    Ready(Instant),
    /// An invocation outlived the function's timeout; the process must go.
    TimedOut(String),
    /// The runtime reported an init error (the process is recycled).
    InitError(Value),
}

struct InFlight {
    request_id: String,
    reply: oneshot::Sender<InvokeOutcome>,
}

/// State of one process's runtime API.
pub struct InstanceState {
    function: Arc<FunctionShared>,
    in_flight: Mutex<Option<InFlight>>,
    initialised: AtomicBool,
    events: mpsc::UnboundedSender<InstanceEvent>,
}

impl InstanceState {
    pub fn new(function: Arc<FunctionShared>, events: mpsc::UnboundedSender<InstanceEvent>) -> Self {
        Self { function, in_flight: Mutex::new(None), initialised: AtomicBool::new(false), events }
    }

    pub fn is_initialised(&self) -> bool {
        self.initialised.load(Ordering::SeqCst)
    }

    /// Takes the in-flight invocation if it is `request_id` (or any, for `None`).
    fn take_in_flight(&self, request_id: Option<&str>) -> Option<InFlight> {
        let mut slot = self.in_flight.lock().ok()?;
        match (&*slot, request_id) {
            (Some(current), Some(id)) if current.request_id != id => None,
            _ => slot.take(),
        }
    }

    /// Fails whatever invocation the process held when it went away.
    pub fn fail_in_flight(&self, error_type: &str, message: &str) {
        if let Some(inflight) = self.take_in_flight(None) {
            let error = service_error(error_type, Some(&inflight.request_id), message);
            let _ = inflight.reply.send(InvokeOutcome::FunctionError(error));
        }
    }
}

const PREFIX: &str = "/2018-06-01/runtime";

pub fn router(state: Arc<InstanceState>) -> Router {
    Router::new()
        .route(&format!("{PREFIX}/invocation/next"), get(next))
        .route(&format!("{PREFIX}/invocation/{{id}}/response"), post(response))
        .route(&format!("{PREFIX}/invocation/{{id}}/error"), post(error))
        .route(&format!("{PREFIX}/init/error"), post(init_error))
        .with_state(state)
}

/// Long-blocks until there is an invocation, then hands it over with its
/// deadline. Cancel-safe: if the process dies while waiting, the handler is
/// dropped with its server and the invocation stays queued.
async fn next(State(state): State<Arc<InstanceState>>) -> Response {
    if !state.initialised.swap(true, Ordering::SeqCst) {
        let _ = state.events.send(InstanceEvent::Ready(Instant::now()));
    }
    let function = &state.function;
    let invocation = {
        let mut queue = function.queue_rx.lock().await;
        queue.recv().await
    };
    let Some(invocation) = invocation else {
        // The stack is shutting down; the process is about to be killed.
        return (StatusCode::GONE, Json(json!({"errorMessage": "stack stopping"}))).into_response();
    };
    let timeout = function.spec.timeout;
    let deadline_ms = SystemTime::now()
        .checked_add(timeout)
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_millis());
    let request_id = invocation.request_id.clone();
    if let Ok(mut slot) = state.in_flight.lock() {
        *slot = Some(InFlight { request_id: request_id.clone(), reply: invocation.reply });
    }
    tokio::spawn(watchdog(state.clone(), request_id.clone(), timeout));
    debug!(function = %function.spec.logical_id, %request_id, "invocation handed to the runtime");

    let mut headers = HeaderMap::new();
    let mut put = |name: &'static str, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    };
    put("lambda-runtime-aws-request-id", request_id);
    put("lambda-runtime-deadline-ms", deadline_ms.to_string());
    put("lambda-runtime-invoked-function-arn", function.arn.clone());
    put("lambda-runtime-trace-id", trace_id());
    put("content-type", "application/json".to_owned());
    (StatusCode::OK, headers, invocation.payload).into_response()
}

/// Fails the invocation with Lambda's timeout error if it is still running at
/// its deadline, and has the process recycled (Lambda does not reuse an
/// environment whose invocation timed out).
async fn watchdog(state: Arc<InstanceState>, request_id: String, timeout: Duration) {
    tokio::time::sleep(timeout).await;
    if let Some(inflight) = state.take_in_flight(Some(&request_id)) {
        let message = format!("Task timed out after {:.2} seconds", timeout.as_secs_f64());
        warn!(function = %state.function.spec.logical_id, %request_id, "{message}");
        let error = service_error("Sandbox.Timedout", Some(&request_id), &message);
        let _ = inflight.reply.send(InvokeOutcome::FunctionError(error));
        let _ = state.events.send(InstanceEvent::TimedOut(request_id));
    }
}

async fn response(State(state): State<Arc<InstanceState>>, Path(id): Path<String>, body: Bytes) -> Response {
    match state.take_in_flight(Some(&id)) {
        Some(inflight) => {
            let _ = inflight.reply.send(InvokeOutcome::Ok(json_or_text(&body)));
            accepted()
        }
        None => invalid_request_id(&id),
    }
}

async fn error(
    State(state): State<Arc<InstanceState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match state.take_in_flight(Some(&id)) {
        Some(inflight) => {
            let payload = error_payload(&headers, &body);
            let _ = inflight.reply.send(InvokeOutcome::FunctionError(payload));
            accepted()
        }
        None => invalid_request_id(&id),
    }
}

async fn init_error(State(state): State<Arc<InstanceState>>, headers: HeaderMap, body: Bytes) -> Response {
    let payload = error_payload(&headers, &body);
    warn!(function = %state.function.spec.logical_id, error = %payload, "function init failed");
    let _ = state.events.send(InstanceEvent::InitError(payload));
    accepted()
}

fn accepted() -> Response {
    (StatusCode::ACCEPTED, Json(json!({"status": "OK"}))).into_response()
}

fn invalid_request_id(id: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({
            "errorType": "InvalidRequestID",
            "errorMessage": format!("Invalid request ID: {id}"),
        })),
    )
        .into_response()
}

/// The runtime's error body, or one built from its error-type header.
fn error_payload(headers: &HeaderMap, body: &Bytes) -> Value {
    match serde_json::from_slice::<Value>(body) {
        Ok(value @ Value::Object(_)) => value,
        _ => {
            let error_type = headers
                .get("lambda-runtime-function-error-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("Runtime.Unknown");
            json!({
                "errorType": error_type,
                "errorMessage": String::from_utf8_lossy(body),
            })
        }
    }
}

/// Responses are JSON for every runtime here; anything else is kept as text.
fn json_or_text(body: &Bytes) -> Value {
    if body.is_empty() {
        return Value::Null;
    }
    serde_json::from_slice(body).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()))
}

/// An X-Ray trace header in the format Lambda passes (not sampled).
fn trace_id() -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let id = uuid::Uuid::new_v4().simple().to_string();
    let parent = uuid::Uuid::new_v4().simple().to_string();
    format!("Root=1-{now:08x}-{};Parent={};Sampled=0", &id[..24], &parent[..16])
}
