//! The Lambda Invoke API (`POST /2015-03-31/functions/{name}/invocations`),
//! so SDKs, the AWS CLI and `curl` can call local functions directly.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use tracing::warn;

use crate::lambda::{InvokeError, InvokeOutcome, Invoker};
use crate::template::StackContext;

struct InvokeState {
    invoker: Invoker,
    ctx: StackContext,
}

pub fn router(invoker: Invoker, ctx: StackContext) -> Router {
    Router::new()
        .route("/2015-03-31/functions/{name}/invocations", post(invoke))
        .with_state(Arc::new(InvokeState { invoker, ctx }))
}

fn user_error(status: StatusCode, error_type: &'static str, message: String) -> Response {
    let mut response = (status, Json(json!({"Type": "User", "Message": message}))).into_response();
    response.headers_mut().insert("x-amzn-errortype", HeaderValue::from_static(error_type));
    response
}

async fn invoke(
    State(state): State<Arc<InvokeState>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let payload: Value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(e) => {
                return user_error(
                    StatusCode::BAD_REQUEST,
                    "InvalidRequestContentException",
                    format!("Could not parse request body into json: {e}"),
                )
            }
        }
    };
    let not_found = || {
        let ctx = &state.ctx;
        user_error(
            StatusCode::NOT_FOUND,
            "ResourceNotFoundException",
            format!(
                "Function not found: arn:{}:lambda:{}:{}:function:{name}",
                ctx.partition, ctx.region, ctx.account_id
            ),
        )
    };
    if state.invoker.spec(&name).is_none() {
        return not_found();
    }
    let invocation_type =
        headers.get("x-amz-invocation-type").and_then(|v| v.to_str().ok()).unwrap_or("RequestResponse");
    match invocation_type {
        "DryRun" => return StatusCode::NO_CONTENT.into_response(),
        "Event" => {
            // Asynchronous invocation: queued, answered 202 at once.
            let invoker = state.invoker.clone();
            tokio::spawn(async move {
                match invoker.invoke(&name, payload).await {
                    Ok(InvokeOutcome::FunctionError(error)) => {
                        warn!(function = %name, %error, "asynchronous invocation failed");
                    }
                    Err(e) => {
                        warn!(function = %name, error = %e, "asynchronous invocation not run")
                    }
                    Ok(InvokeOutcome::Ok(_)) => {}
                }
            });
            return StatusCode::ACCEPTED.into_response();
        }
        _ => {}
    }
    let (body, function_error) = match state.invoker.invoke(&name, payload).await {
        Ok(InvokeOutcome::Ok(value)) => (value, false),
        Ok(InvokeOutcome::FunctionError(error)) => (error, true),
        Err(InvokeError::NotFound(_)) => return not_found(),
        Err(e @ InvokeError::Stopped(_)) => {
            return user_error(StatusCode::SERVICE_UNAVAILABLE, "ServiceException", e.to_string())
        }
    };
    let mut response = (StatusCode::OK, Json(body)).into_response();
    let headers = response.headers_mut();
    headers.insert("x-amz-executed-version", HeaderValue::from_static("$LATEST"));
    if function_error {
        headers.insert("x-amz-function-error", HeaderValue::from_static("Unhandled"));
    }
    response
}
