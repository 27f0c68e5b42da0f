//! The AWS fault proxy: a reverse proxy in front of the emulator that
//! functions use as their endpoint. `POST /__faults` queues errors for chosen
//! operations; `GET /__requests` counts what went through by
//! `Service.Operation`; a request over an AWS quota is refused as AWS would
//! (`quotas`); under a time scale, SQS visibility changes are compressed
//! (`time_scale`); everything else is forwarded unchanged.

pub mod counter;
pub mod faults;
pub mod naming;
pub mod quotas;
pub mod time_scale;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Response, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use tracing::{info, warn};

pub use counter::RequestCounter;
pub use faults::{operation_of, Fault, FaultInjector};
pub use naming::request_name;

use crate::iam::{denial, Authorizer, Verdict};

/// The emulator answers in milliseconds; long-polls wait at most 20 s.
const UPSTREAM_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);
const MAX_BODY: usize = 64 * 1024 * 1024;

/// Hop-by-hop headers: meaningful for one connection only, never forwarded.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
];

struct ProxyState {
    upstream: String,
    client: reqwest::Client,
    faults: FaultInjector,
    requests: RequestCounter,
    gate: Gate,
}

/// What stands between the functions and AWS besides faults: IAM, and where
/// each service lives locally.
#[derive(Debug, Clone, Default)]
pub struct Gate {
    /// Checks every call against the caller's policies; `None` checks nothing.
    pub authorizer: Option<Arc<Authorizer>>,
    /// Where calls signed for Amazon Connect go (the Connect fake), so they
    /// pass the same checks as every other AWS call.
    pub connect_upstream: Option<String>,
    /// Retry waits compressed by this factor (`time_scale`); 1 in real time.
    pub time_scale: kit::retry::TimeScale,
    /// Where calls signed for the IoT data plane go (the local IoT Core's
    /// broker), after the same checks; `None` forwards them to the emulator.
    pub iot: Option<Arc<crate::iot::Broker>>,
}

pub fn router(
    upstream: &str,
    faults: FaultInjector,
    requests: RequestCounter,
    gate: Gate,
) -> Result<Router, reqwest::Error> {
    let state = Arc::new(ProxyState {
        upstream: upstream.trim_end_matches('/').to_owned(),
        client: kit::http::client_builder().timeout(UPSTREAM_TIMEOUT).build()?,
        faults,
        requests,
        gate,
    });
    Ok(Router::new()
        .route("/__faults", get(list).post(add).delete(clear))
        .route("/__requests", get(counts).delete(reset_counts))
        .route("/__iam", get(iam_calls))
        .fallback(forward)
        .with_state(state))
}

async fn counts(State(state): State<Arc<ProxyState>>) -> Json<BTreeMap<String, u64>> {
    Json(state.requests.snapshot())
}

async fn reset_counts(State(state): State<Arc<ProxyState>>) -> StatusCode {
    state.requests.reset();
    StatusCode::NO_CONTENT
}

/// Every (principal, operation) pair IAM has seen, with allowed and refused counts.
async fn iam_calls(State(state): State<Arc<ProxyState>>) -> Json<serde_json::Value> {
    Json(state.gate.authorizer.as_ref().map_or_else(|| json!({}), |a| a.ledger_json()))
}

async fn list(State(state): State<Arc<ProxyState>>) -> Json<Vec<Fault>> {
    Json(state.faults.pending())
}

async fn add(State(state): State<Arc<ProxyState>>, Json(fault): Json<Fault>) -> impl IntoResponse {
    info!(operation = %fault.operation, count = fault.count, status = fault.status, code = %fault.code, "fault queued");
    state.faults.inject(fault);
    (StatusCode::CREATED, Json(state.faults.pending()))
}

async fn clear(State(state): State<Arc<ProxyState>>) -> StatusCode {
    state.faults.clear();
    StatusCode::NO_CONTENT
}

async fn forward(State(state): State<Arc<ProxyState>>, request: Request) -> Response<Body> {
    let (parts, body) = request.into_parts();
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(e) => return bad_gateway(&format!("cannot read request body: {e}")),
    };
    // Counted before faults: an injected fault is still a request the function made.
    state.requests.add(&request_name(&parts.method, &parts.headers, parts.uri.query(), &body));
    // Authorization comes first, as in AWS: a refused call never reaches the service.
    if let Some(authorizer) = &state.gate.authorizer {
        if let Verdict::Refused(refusal) = authorizer.authorize(&parts, &body).await {
            return denial::response(&refusal);
        }
    }
    // Then the service's own limits.
    if let Some(violation) = quotas::check(&parts.method, parts.uri.path(), &parts.headers, parts.uri.query(), &body) {
        return violation.refuse();
    }
    let operation = operation_of(&parts.headers, parts.uri.query(), &body);
    if let Some(fault) = state.faults.take(operation.as_deref()) {
        info!(operation = ?operation, code = %fault.code, "injecting fault");
        let query_protocol = !parts.headers.contains_key("x-amz-target");
        return fault_response(&fault, query_protocol);
    }
    if let Some(broker) = &state.gate.iot {
        let credential = crate::iam::request::credential(&parts.headers, parts.uri.query());
        if credential.is_some_and(|c| c.service == "iotdata") {
            return crate::iot::data_plane::publish(broker, &parts.method, parts.uri.path(), parts.uri.query(), body);
        }
    }
    let body = time_scale::compress_visibility(state.gate.time_scale, &parts.headers, body);
    let path_and_query =
        parts.uri.path_and_query().map_or_else(|| parts.uri.path().to_owned(), |pq| pq.as_str().to_owned());
    let base = match (&state.gate.connect_upstream, crate::iam::request::credential(&parts.headers, parts.uri.query()))
    {
        (Some(connect), Some(credential)) if credential.service == "connect" => connect.as_str(),
        _ => state.upstream.as_str(),
    };
    let mut upstream = state.client.request(parts.method.clone(), format!("{base}{path_and_query}")).body(body);
    for (name, value) in &parts.headers {
        if !HOP_BY_HOP.contains(&name.as_str()) {
            upstream = upstream.header(name, value);
        }
    }
    let response = match upstream.send().await {
        Ok(r) => r,
        Err(e) => {
            warn!(error = %e, "emulator unreachable through the fault proxy");
            return bad_gateway(&e.to_string());
        }
    };
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = match response.bytes().await {
        Ok(b) => b,
        Err(e) => return bad_gateway(&format!("cannot read emulator response: {e}")),
    };
    let mut out = Response::new(Body::from(bytes));
    *out.status_mut() = status;
    for (name, value) in &headers {
        if !HOP_BY_HOP.contains(&name.as_str()) {
            out.headers_mut().append(name, value.clone());
        }
    }
    out
}

/// The error in the protocol the SDK expects: JSON (`__type`) for JSON
/// protocols, the XML `ErrorResponse` for query protocols.
fn fault_response(fault: &Fault, query_protocol: bool) -> Response<Body> {
    let status = StatusCode::from_u16(fault.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let (content_type, body) = if query_protocol {
        let kind = if status.is_client_error() { "Sender" } else { "Receiver" };
        (
            "text/xml",
            Bytes::from(format!(
                "<ErrorResponse><Error><Type>{kind}</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
                xml_escape(&fault.code),
                xml_escape(&fault.message),
                uuid::Uuid::new_v4()
            )),
        )
    } else {
        ("application/x-amz-json-1.0", Bytes::from(json!({"__type": fault.code, "message": fault.message}).to_string()))
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert("content-type", HeaderValue::from_static(content_type));
    if let Ok(code) = HeaderValue::from_str(&fault.code) {
        headers.insert(HeaderName::from_static("x-amzn-errortype"), code);
    }
    if let Ok(id) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
        headers.insert(HeaderName::from_static("x-amzn-requestid"), id);
    }
    response
}

fn bad_gateway(detail: &str) -> Response<Body> {
    (StatusCode::BAD_GATEWAY, Json(json!({"__type": "BadGateway", "message": detail}))).into_response()
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}
