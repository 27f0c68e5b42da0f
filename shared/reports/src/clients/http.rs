//! One classification of third-party HTTP failures, shared by the Zendesk and
//! Notify clients.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use kit::{Classify, ErrorClass};
use serde::de::DeserializeOwned;
use serde_json::error::Category;
use tracing::info;

use crate::secrets::{SecretError, SecretSource};

/// The third party a request went to. Typed, not a string, so the dependency name
/// the runner counts outages under cannot drift from the client that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Zendesk,
    Notify,
}

impl Service {
    /// The name in messages and logs.
    pub fn name(self) -> &'static str {
        match self {
            Service::Zendesk => "Zendesk",
            Service::Notify => "Notify",
        }
    }

    /// The name the runner's `DependencyFailures` metric and its alarms use.
    pub fn dependency(self) -> &'static str {
        match self {
            Service::Zendesk => "zendesk",
            Service::Notify => "notify",
        }
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

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
    Status { service: Service, status: u16, code: Option<String>, retry_after: Option<Duration> },
    #[error("{service} request failed: {message}")]
    Transport { service: Service, certainty: Certainty, message: String },
    #[error("{service} answered with an unexpected body: {message}")]
    Body { service: Service, message: String },
    #[error("{service} credentials are unusable: {message}")]
    Credentials { service: Service, message: String },
    /// The credential could not be read from Secrets Manager: classified as that
    /// failure is (a throttled read retries), not as a bad credential.
    #[error("{service} credentials could not be read")]
    Secret {
        service: Service,
        #[source]
        source: SecretError,
    },
}

impl HttpError {
    /// From a reqwest error, deciding whether the request may have been processed.
    pub fn transport(service: Service, err: &reqwest::Error) -> Self {
        // A connect error means nothing was sent; a timeout or a broken connection
        // after sending leaves the outcome unknown.
        let certainty = if err.is_connect() || err.is_builder() { Certainty::NotDone } else { Certainty::Unknown };
        HttpError::Transport { service, certainty, message: without_url(err) }
    }

    /// A success answer whose body could not be read off the connection.
    pub fn unreadable(service: Service, err: &reqwest::Error) -> Self {
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

    /// The provider refused the credential: Zendesk answers a revoked token with
    /// 401 or 403, Notify a key it does not know with 403 (401 when none is sent).
    pub fn is_auth_refusal(&self) -> bool {
        matches!(self.status(), Some(401 | 403))
    }
}

/// Reads a provider's answer as `T`. A body that is not a `T` is named by where it
/// broke, never by what it said: serde's messages quote the values they reject, and
/// a provider can echo the request (addresses, names) into its answer.
pub fn read_body<T: DeserializeOwned>(service: Service, body: &[u8]) -> Result<T, HttpError> {
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
            HttpError::Secret { source, .. } => source.class(),
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
            HttpError::Secret { source, .. } => source.kind(),
        }
    }
    fn retry_after(&self) -> Option<Duration> {
        match self {
            HttpError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
    fn dependency(&self) -> Option<&'static str> {
        match self {
            HttpError::Status { service, .. }
            | HttpError::Transport { service, .. }
            | HttpError::Body { service, .. } => Some(service.dependency()),
            // A key we cannot use, or Secrets Manager failing, is not the provider's outage.
            HttpError::Credentials { .. } | HttpError::Secret { .. } => None,
        }
    }
}

/// `Retry-After`, as seconds or as an HTTP-date (RFC 9110 allows both; a proxy or
/// CDN in front of a provider may send the date form).
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    parse_retry_after(headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?, Utc::now())
}

/// A `Retry-After` value read at `now`. A date in the past asks for no wait.
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    // IMF-fixdate, the only date form senders may generate: `Sun, 06 Nov 1994 08:49:37 GMT`.
    let at = NaiveDateTime::parse_from_str(value, "%a, %d %b %Y %H:%M:%S GMT").ok()?.and_utc();
    (at - now).to_std().ok()
}

/// Calls a provider with the current secret. A credential refused (401/403) may
/// have been rotated since it was cached, so it is read again from Secrets Manager
/// and the call made once more with the new value; the refusal stands (permanent)
/// if the value did not change, since the same credential would be refused again,
/// or if the new one is refused too. `call` must be safe to repeat after a refusal:
/// a provider that refused the credential did nothing.
pub async fn with_fresh_secret<S, T, F, Fut>(service: Service, secret: &S, mut call: F) -> Result<T, HttpError>
where
    S: SecretSource + ?Sized,
    F: FnMut(String) -> Fut,
    Fut: Future<Output = Result<T, HttpError>>,
{
    let unreadable = |source| HttpError::Secret { service, source };
    let current = secret.get().await.map_err(unreadable)?;
    match call(current.clone()).await {
        Err(refused) if refused.is_auth_refusal() => {
            let fresh = secret.refresh(&current).await.map_err(unreadable)?;
            if fresh == current {
                return Err(refused);
            }
            info!(service = service.name(), "credential refused; retrying once with the rotated secret");
            call(fresh).await
        }
        other => other,
    }
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
            let err = read_body::<Ticket>(Service::Zendesk, body.as_bytes()).expect_err(body).to_string();
            assert!(!err.contains("alice"), "{err}");
            assert!(err.contains("line 1"), "{err}");
        }
        assert_eq!(read_body::<Ticket>(Service::Zendesk, br#"{"id": 7}"#).map(|t| t.id).ok(), Some(7));
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
        let e = |status| HttpError::Status { service: Service::Zendesk, status, code: None, retry_after: None };
        assert_eq!(e(500).certainty(), Certainty::Unknown);
        assert_eq!(e(429).certainty(), Certainty::NotDone);
        assert_eq!(e(422).certainty(), Certainty::NotDone);
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now: DateTime<Utc> = "2015-10-21T07:26:00Z".parse().unwrap();
        assert_eq!(parse_retry_after(" 120 ", now), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:20:00 GMT", now), None, "a past date asks no wait");
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
    }

    #[test]
    fn provider_failures_name_their_dependency_and_pass_on_retry_after() {
        let throttled = HttpError::Status {
            service: Service::Notify,
            status: 429,
            code: None,
            retry_after: Some(Duration::from_secs(30)),
        };
        assert_eq!(throttled.retry_after(), Some(Duration::from_secs(30)));
        assert_eq!(throttled.dependency(), Some("notify"));
        let lost =
            HttpError::Transport { service: Service::Zendesk, certainty: Certainty::Unknown, message: "x".into() };
        assert_eq!((lost.retry_after(), lost.dependency()), (None, Some("zendesk")));
        let bad_key = HttpError::Credentials { service: Service::Notify, message: "x".into() };
        assert_eq!(bad_key.dependency(), None, "our key, not Notify's outage");
    }

    #[test]
    fn a_secret_that_cannot_be_read_is_retried_when_secrets_manager_may_recover() {
        let read = |failure| HttpError::Secret {
            service: Service::Zendesk,
            source: SecretError::Fetch { name: "zendesk-token".into(), failure },
        };
        assert_eq!(read(kit::sdk::SdkFailure::retryable("throttled")).class(), ErrorClass::Retryable);
        assert_eq!(read(kit::sdk::SdkFailure::permanent("denied")).class(), ErrorClass::Permanent);
        assert_eq!(read(kit::sdk::SdkFailure::retryable("throttled")).dependency(), None);
    }
}
