//! One classification of third-party HTTP failures, shared by the Zendesk and
//! Notify clients.

use std::time::Duration;

use kit::{Classify, ErrorClass};
use serde::de::DeserializeOwned;
use serde_json::error::Category;

/// Whether the provider may have acted on a request that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Certainty {
    /// The provider answered with an error, or the request never left: nothing happened.
    NotDone,
    /// The request may have been processed (timeout or connection lost after sending).
    Unknown,
}

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("{service} answered {status}{}", code.as_deref().map(|c| format!(" ({c})")).unwrap_or_default())]
    Status { service: &'static str, status: u16, code: Option<String>, retry_after: Option<Duration> },
    #[error("{service} request failed: {message}")]
    Transport { service: &'static str, certainty: Certainty, message: String },
    #[error("{service} answered with an unexpected body: {message}")]
    Body { service: &'static str, message: String },
    #[error("{service} credentials are unusable: {message}")]
    Credentials { service: &'static str, message: String },
}

impl HttpError {
    /// From a reqwest error, deciding whether the request may have been processed.
    pub fn transport(service: &'static str, err: &reqwest::Error) -> Self {
        // A connect error means nothing was sent; a timeout or a broken connection
        // after sending leaves the outcome unknown.
        let certainty = if err.is_connect() || err.is_builder() { Certainty::NotDone } else { Certainty::Unknown };
        HttpError::Transport { service, certainty, message: without_url(err) }
    }

    /// A success answer whose body could not be read off the connection.
    pub fn unreadable(service: &'static str, err: &reqwest::Error) -> Self {
        HttpError::Body { service, message: without_url(err) }
    }

    pub fn certainty(&self) -> Certainty {
        match self {
            HttpError::Transport { certainty, .. } => *certainty,
            // A 5xx may come from a proxy after the provider acted: treat as unknown.
            HttpError::Status { status, .. } if *status >= 500 => Certainty::Unknown,
            // An unreadable success body: the provider acted.
            HttpError::Body { .. } => Certainty::Unknown,
            _ => Certainty::NotDone,
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            HttpError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// Reads a provider's answer as `T`. A body that is not a `T` is named by where it
/// broke, never by what it said: serde's messages quote the values they reject, and
/// a provider can echo the request (addresses, names) into its answer.
pub fn read_body<T: DeserializeOwned>(service: &'static str, body: &[u8]) -> Result<T, HttpError> {
    serde_json::from_slice(body).map_err(|e| {
        let what = match e.classify() {
            Category::Io | Category::Eof => "a truncated body",
            Category::Syntax => "not JSON",
            Category::Data => "JSON of another shape",
        };
        HttpError::Body { service, message: format!("{what} (line {}, column {})", e.line(), e.column()) }
    })
}

/// Keeps a provider's error code only when it is shaped like one (`RecordInvalid`,
/// `BadRequestError`, `Forbidden`): letters, spaces and `_-.:`, at most 64. Codes go
/// into logs and dead-letter reasons; anything else may be the request quoted back.
pub fn code_only(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let shaped = (1..=64).contains(&raw.len())
        && raw.chars().all(|c| c.is_ascii_alphabetic() || matches!(c, ' ' | '_' | '-' | '.' | ':'));
    shaped.then(|| raw.to_owned())
}

/// Retry what can change by itself (throttling, outages, conflicts with an
/// in-flight twin, timeouts); anything else a provider refuses is about the request.
pub fn status_class(status: u16) -> ErrorClass {
    match status {
        408 | 409 | 425 | 429 => ErrorClass::Retryable,
        s if s >= 500 => ErrorClass::Retryable,
        _ => ErrorClass::Permanent,
    }
}

impl Classify for HttpError {
    fn class(&self) -> ErrorClass {
        match self {
            HttpError::Status { status, .. } => status_class(*status),
            HttpError::Transport { .. } => ErrorClass::Retryable,
            // The provider acted but said something we cannot read: retrying finds
            // the effect through the lookup, and a persistent mismatch ends in the DLQ.
            HttpError::Body { .. } => ErrorClass::Retryable,
            HttpError::Credentials { .. } => ErrorClass::Permanent,
        }
    }
    fn kind(&self) -> &'static str {
        match self {
            HttpError::Status { status: 429, .. } => "provider_throttled",
            HttpError::Status { status: 401 | 403, .. } => "provider_auth_failed",
            HttpError::Status { status, .. } if *status >= 500 => "provider_unavailable",
            HttpError::Status { .. } => "provider_rejected",
            HttpError::Transport { .. } => "provider_unreachable",
            HttpError::Body { .. } => "provider_bad_response",
            HttpError::Credentials { .. } => "provider_credentials",
        }
    }
}

/// `Retry-After` in seconds (the HTTP-date form is not used by these providers).
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// reqwest's messages carry the URL; query strings may hold references, so drop it.
fn without_url(err: &reqwest::Error) -> String {
    let mut text = kit::error::chain(err);
    if let Some(url) = err.url() {
        text = text.replace(url.as_str(), "<url>");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unexpected_body_is_named_by_where_it_broke_not_by_what_it_said() {
        #[derive(Debug, serde::Deserialize)]
        struct Ticket {
            #[allow(dead_code)]
            id: u64,
        }
        for body in
            [r#"{"id": "alice@example.com"}"#, r#"{"id": 1, "#, "alice@example.com", r#"{"name": "alice@example.com"}"#]
        {
            let err = read_body::<Ticket>("Zendesk", body.as_bytes()).expect_err(body).to_string();
            assert!(!err.contains("alice"), "{err}");
            assert!(err.contains("line 1"), "{err}");
        }
        assert_eq!(read_body::<Ticket>("Zendesk", br#"{"id": 7}"#).map(|t| t.id).ok(), Some(7));
    }

    #[test]
    fn only_code_shaped_error_codes_are_kept() {
        for code in ["RecordInvalid", "BadRequestError", "Too Many Requests", "auth.forbidden"] {
            assert_eq!(code_only(code).as_deref(), Some(code));
        }
        for raw in ["", "   ", "alice@example.com", "07700 900123", "a\nb", &"A".repeat(65), "<script>"] {
            assert_eq!(code_only(raw), None, "{raw:?}");
        }
    }

    #[test]
    fn throttling_and_outages_retry_and_other_refusals_do_not() {
        for s in [408, 409, 429, 500, 502, 503] {
            assert_eq!(status_class(s), ErrorClass::Retryable, "{s}");
        }
        for s in [400, 401, 403, 404, 422] {
            assert_eq!(status_class(s), ErrorClass::Permanent, "{s}");
        }
    }

    #[test]
    fn a_server_error_leaves_the_outcome_unknown_and_a_refusal_does_not() {
        let e = |status| HttpError::Status { service: "x", status, code: None, retry_after: None };
        assert_eq!(e(500).certainty(), Certainty::Unknown);
        assert_eq!(e(429).certainty(), Certainty::NotDone);
        assert_eq!(e(422).certainty(), Certainty::NotDone);
    }
}
