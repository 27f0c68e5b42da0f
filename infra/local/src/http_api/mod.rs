//! The HTTP API: API Gateway's HTTP API in front of the functions, with the
//! JWT authorizer emulated by local HS256 tokens, and `AWS_IAM` routes
//! authorised by SigV4 and the signer's IAM policies (see `iam_auth`).

pub mod event;
pub mod iam_auth;
pub mod jwt;
pub mod routes;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde_json::json;
use tracing::{debug, warn};

use crate::iam::Authorizer;
use crate::lambda::{InvokeOutcome, Invoker};
use crate::template::RouteAuthSpec;
use event::{build_event, map_response, ApiContext, IncomingRequest};
use iam_auth::ApiTarget;
use jwt::JwtVerifier;
use routes::RouteTable;

/// API Gateway's payload limit.
const MAX_BODY: usize = 10 * 1024 * 1024;

pub struct HttpApiState {
    pub routes: RouteTable,
    pub invoker: Invoker,
    pub verifier: JwtVerifier,
    pub account_id: String,
    pub region: String,
    /// What `!Ref` of the HTTP API resolves to: the API id in its execute-api ARNs.
    pub api_id: String,
    /// The principals `AWS_IAM` routes accept signatures of; `None` (no IAM
    /// locally) refuses every request to them.
    pub authorizer: Option<Arc<Authorizer>>,
}

/// Every request goes through one handler: the route table, not axum's
/// router, decides (API Gateway's precedence rules).
pub fn router(state: HttpApiState) -> Router {
    Router::new().fallback(handle).with_state(Arc::new(state))
}

fn message(status: StatusCode, text: &str) -> Response {
    (status, Json(json!({ "message": text }))).into_response()
}

async fn handle(
    State(state): State<Arc<HttpApiState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let mut response = respond(&state, peer, request, &request_id).await;
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("apigw-requestid", v);
    }
    response
}

async fn respond(state: &HttpApiState, peer: SocketAddr, request: Request, request_id: &str) -> Response {
    let (parts, body) = request.into_parts();
    let method = parts.method.as_str().to_owned();
    let raw_path = parts.uri.path().to_owned();
    let Some(matched) = state.routes.find(&method, &raw_path) else {
        return message(StatusCode::NOT_FOUND, "Not Found");
    };
    let claims = match &matched.route.auth {
        RouteAuthSpec::Jwt(authorizer) => {
            let header = parts.headers.get("authorization").and_then(|v| v.to_str().ok());
            match state.verifier.verify(header, authorizer) {
                Ok(claims) => Some(claims),
                Err(e) => {
                    debug!(route = %matched.route.route_key, reason = %e, "unauthorized");
                    return message(StatusCode::UNAUTHORIZED, "Unauthorized");
                }
            }
        }
        RouteAuthSpec::None | RouteAuthSpec::Iam => None,
    };
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => return message(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large"),
    };
    // The signature covers the body: IAM routes are authorised once it is read.
    let iam_identity = match &matched.route.auth {
        RouteAuthSpec::Iam => {
            let target = ApiTarget { region: &state.region, account: &state.account_id, api_id: &state.api_id };
            match iam_auth::authorize(state.authorizer.as_deref(), &parts, &body, &target, chrono::Utc::now()) {
                Ok(identity) => Some(identity),
                Err(refusal) => {
                    debug!(route = %matched.route.route_key, reason = %refusal.text(), "forbidden");
                    return refusal.into_response();
                }
            }
        }
        RouteAuthSpec::None | RouteAuthSpec::Jwt(_) => None,
    };
    let protocol = format!("{:?}", parts.version);
    let incoming = IncomingRequest {
        method: &method,
        raw_path: &raw_path,
        raw_query: parts.uri.query().unwrap_or_default(),
        protocol: &protocol,
        headers: &parts.headers,
        body: &body,
        source_ip: peer.ip().to_string(),
        request_id: request_id.to_owned(),
        time: chrono::Utc::now(),
    };
    let api = ApiContext { account_id: &state.account_id, api_id: &state.api_id };
    let mut event = build_event(&incoming, &matched, claims.as_ref(), &api);
    if let Some(identity) = iam_identity {
        event::insert_iam_identity(&mut event, identity);
    }
    let function = matched.route.function.clone();
    match state.invoker.invoke(&function, event).await {
        Ok(InvokeOutcome::Ok(value)) => map_response(value).unwrap_or_else(|e| {
            warn!(%function, error = %e, "malformed function response");
            message(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
        }),
        Ok(InvokeOutcome::FunctionError(error)) => {
            warn!(%function, %error, "function error");
            message(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
        }
        Err(e) => {
            warn!(%function, error = %e, "cannot invoke");
            message(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
        }
    }
}
