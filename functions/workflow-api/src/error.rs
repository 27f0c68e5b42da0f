//! The one place errors become HTTP responses. Refusals say why (the caller can act
//! on it); internal failures are logged with their cause and answered generically.

use audit::{AuditError, Refusal};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use kit::error::chain;
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("missing or invalid credentials")]
    Unauthenticated,
    #[error(transparent)]
    Audit(#[from] AuditError),
}

impl kit::Classify for ApiError {
    fn class(&self) -> kit::ErrorClass {
        match self {
            ApiError::Audit(e) => e.class(),
            _ => kit::ErrorClass::Permanent,
        }
    }
    fn kind(&self) -> &'static str {
        match self {
            ApiError::Unauthenticated => "unauthenticated",
            ApiError::Audit(e) => e.kind(),
        }
    }
}

const RETRY_MESSAGE: &str = "the action was recorded but not yet announced: send the same request again";
const INTERNAL_MESSAGE: &str = "something went wrong; try again later";

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message) = match &self {
            ApiError::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthenticated", self.to_string()),
            ApiError::Audit(e) => match e {
                AuditError::Invalid(m) => (StatusCode::BAD_REQUEST, "bad_request", m.to_string()),
                AuditError::Refused(Refusal::Forbidden(m)) => (StatusCode::FORBIDDEN, "forbidden", m.clone()),
                AuditError::Refused(Refusal::InvalidTransition(m)) => {
                    (StatusCode::CONFLICT, "invalid_transition", m.clone())
                }
                AuditError::NotFound => (StatusCode::NOT_FOUND, "not_found", "not found".to_owned()),
                AuditError::Conflict(m) => (StatusCode::CONFLICT, "conflict", m.clone()),
                AuditError::NotAnnounced { .. } => {
                    tracing::warn!(error = %chain(e), "action not announced");
                    (StatusCode::SERVICE_UNAVAILABLE, "not_announced", RETRY_MESSAGE.to_owned())
                }
                AuditError::Store(_)
                | AuditError::Channel(_)
                | AuditError::Signing(_)
                | AuditError::PredecessorMissing { .. }
                | AuditError::SeqConflict { .. } => {
                    tracing::error!(error = %chain(e), "request failed");
                    (StatusCode::INTERNAL_SERVER_ERROR, "internal", INTERNAL_MESSAGE.to_owned())
                }
            },
        };
        let mut response = (status, Json(json!({ "error": code, "message": message }))).into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}
