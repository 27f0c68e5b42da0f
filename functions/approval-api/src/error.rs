//! The service routes' errors, mapped to JSON responses in one place. Internal
//! details are logged, never echoed.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use kit::error::chain;
use serde_json::{json, Value};

/// The `error` of a 404 that says the approval request does not exist. The on-prem
/// processor relies on it (`onprem/action-processor/src/api.rs`): keep it stable.
pub const REQUEST_NOT_FOUND: &str = "request_not_found";

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("this route needs IAM authorisation")]
    Forbidden,
    /// An IAM caller this route does not admit.
    #[error("{caller} is not allowed to {what}")]
    NotAllowed { caller: String, what: &'static str },
    #[error("{0}")]
    BadRequest(String),
    #[error("no such approval request")]
    NotFound,
    /// The request is not in a state that allows this; the body says which.
    #[error("conflict")]
    Conflict(Value),
    #[error("request failed")]
    Internal(#[from] approvals::ApprovalError),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = match &self {
            ApiError::Forbidden => (StatusCode::FORBIDDEN, json!({"error": "forbidden", "message": self.to_string()})),
            ApiError::NotAllowed { .. } => {
                (StatusCode::FORBIDDEN, json!({"error": "caller_not_allowed", "message": self.to_string()}))
            }
            ApiError::BadRequest(m) => (StatusCode::BAD_REQUEST, json!({"error": "bad_request", "message": m})),
            // A code no gateway or proxy answers with: the processor deletes a decision
            // only on this answer, never on a bare 404 (a wrong base path or stage).
            ApiError::NotFound => {
                (StatusCode::NOT_FOUND, json!({"error": REQUEST_NOT_FOUND, "message": self.to_string()}))
            }
            ApiError::Conflict(v) => (StatusCode::CONFLICT, v.clone()),
            ApiError::Internal(e) => {
                tracing::error!(error = %chain(e), error_kind = kit::Classify::kind(e), "request failed");
                let message = "something went wrong; try again later";
                (StatusCode::INTERNAL_SERVER_ERROR, json!({"error": "internal", "message": message}))
            }
        };
        (status, Json(body)).into_response()
    }
}

/// Domain errors that are the caller's fault become 4xx; the rest 500.
pub fn from_domain(e: approvals::ApprovalError) -> ApiError {
    match e {
        approvals::ApprovalError::Invalid(invalid) => ApiError::BadRequest(invalid.to_string()),
        approvals::ApprovalError::RequestIdReused { request_id } => ApiError::Conflict(json!({
            "error": "request_id_reused",
            "message": format!("request id {request_id} was already used for a different request"),
        })),
        other => ApiError::Internal(other),
    }
}
