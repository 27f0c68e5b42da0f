//! Failure on request for the fakes: a share of API requests fail as the real
//! service fails under load (500, 429 with `Retry-After`, slow answers), or
//! with one forced status, or after doing what they were asked (a response
//! lost on the way back). Configured over HTTP at `/__faults`; applies to the
//! API paths only, never to `/__faults` itself.
//!
//! Every API request is also logged (`GET /__requests`): when it came, what it
//! was about (the `external_id` or `reference` it names) and how it was
//! answered, with the `Retry-After` given: the chaos suite checks from it that
//! no caller came back sooner than it was told to.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use rand::seq::IndexedRandom;
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tracing::info;

/// How a failing request fails when no status is forced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FaultKind {
    #[serde(rename = "500")]
    ServerError,
    #[serde(rename = "429")]
    RateLimited,
    /// Waits `slow_ms`, then answers normally.
    #[serde(rename = "slow")]
    Slow,
}

fn all_kinds() -> Vec<FaultKind> {
    vec![FaultKind::ServerError, FaultKind::RateLimited, FaultKind::Slow]
}
fn one_second() -> u32 {
    1
}
fn three_seconds() -> u64 {
    3000
}

/// Longest a "slow" failure may wait: longer only hangs the caller's test.
const MAX_SLOW_MS: u64 = 120_000;

/// What `POST /__faults` sets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultConfig {
    /// Share of API requests that fail, 0 to 1.
    pub error_rate: f64,
    /// Chosen uniformly for each failing request.
    #[serde(default = "all_kinds")]
    pub kinds: Vec<FaultKind>,
    /// Every failing request gets exactly this status (kinds are ignored).
    #[serde(default)]
    pub status: Option<u16>,
    /// `Retry-After` of 429 answers.
    #[serde(default = "one_second")]
    pub retry_after_secs: u32,
    #[serde(default = "three_seconds")]
    pub slow_ms: u64,
    /// A failing request is carried out, then answered 500 (or `status`).
    #[serde(default)]
    pub lose_response: bool,
}

impl Default for FaultConfig {
    fn default() -> Self {
        Self {
            error_rate: 0.0,
            kinds: all_kinds(),
            status: None,
            retry_after_secs: one_second(),
            slow_ms: three_seconds(),
            lose_response: false,
        }
    }
}

impl FaultConfig {
    /// Why this configuration cannot be applied, if it cannot.
    pub fn problem(&self) -> Option<String> {
        if !(0.0..=1.0).contains(&self.error_rate) {
            return Some(format!("error_rate must be between 0 and 1, got {}", self.error_rate));
        }
        if self.kinds.is_empty() && self.status.is_none() && !self.lose_response {
            return Some("kinds must name at least one of \"500\", \"429\", \"slow\"".to_owned());
        }
        if let Some(status) = self.status {
            if !(400..=599).contains(&status) {
                return Some(format!("status must be an error status (400-599), got {status}"));
            }
        }
        if self.slow_ms > MAX_SLOW_MS {
            return Some(format!("slow_ms must be at most {MAX_SLOW_MS}, got {}", self.slow_ms));
        }
        None
    }

    /// What happens to one request.
    pub fn decide(&self, rng: &mut impl Rng) -> Decision {
        // random() is in [0, 1): a rate of 0 never fails, a rate of 1 always does.
        if rng.random::<f64>() >= self.error_rate {
            return Decision::Pass;
        }
        if self.lose_response {
            return Decision::ProcessThenFail(self.forced_status().unwrap_or(StatusCode::INTERNAL_SERVER_ERROR));
        }
        if let Some(status) = self.forced_status() {
            return Decision::Fail(status);
        }
        match self.kinds.choose(rng) {
            Some(FaultKind::ServerError) | None => Decision::Fail(StatusCode::INTERNAL_SERVER_ERROR),
            Some(FaultKind::RateLimited) => Decision::Fail(StatusCode::TOO_MANY_REQUESTS),
            Some(FaultKind::Slow) => Decision::Slow(Duration::from_millis(self.slow_ms)),
        }
    }

    fn forced_status(&self) -> Option<StatusCode> {
        self.status.and_then(|s| StatusCode::from_u16(s).ok())
    }
}

/// The fate of one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Pass,
    Fail(StatusCode),
    Slow(Duration),
    ProcessThenFail(StatusCode),
}

/// The error response a fake gives for a status, in its own dialect.
pub type ErrorResponse = fn(StatusCode) -> Response;

/// One API request as the fake answered it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Answered {
    /// When it arrived, in milliseconds since the Unix epoch.
    pub at_ms: i64,
    pub method: String,
    pub path: String,
    /// The `external_id` or `reference` the request names (query or JSON body).
    pub subject: Option<String>,
    pub status: u16,
    pub retry_after_secs: Option<u32>,
}

/// The log keeps the newest requests only, so a long run cannot grow it without bound.
const MAX_LOGGED: usize = 200_000;
/// Request bodies the fakes accept are small; a larger one is not read for its subject.
const MAX_LOGGED_BODY: usize = 1024 * 1024;

/// One fake's fault configuration and error dialect.
#[derive(Clone)]
pub struct Faults {
    config: Arc<Mutex<FaultConfig>>,
    error: ErrorResponse,
    answered: Arc<Mutex<std::collections::VecDeque<Answered>>>,
}

impl Faults {
    pub fn new(error: ErrorResponse) -> Self {
        Self { config: Arc::default(), error, answered: Arc::default() }
    }

    fn log(&self, entry: Answered) {
        let mut log = self.answered.lock().unwrap_or_else(PoisonError::into_inner);
        if log.len() == MAX_LOGGED {
            log.pop_front();
        }
        log.push_back(entry);
    }

    fn answered(&self) -> Vec<Answered> {
        self.answered.lock().unwrap_or_else(PoisonError::into_inner).iter().cloned().collect()
    }

    fn config(&self) -> FaultConfig {
        self.config.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    fn set(&self, config: FaultConfig) {
        *self.config.lock().unwrap_or_else(PoisonError::into_inner) = config;
    }

    fn failure(&self, status: StatusCode, retry_after_secs: u32) -> Response {
        let mut response = (self.error)(status);
        if status == StatusCode::TOO_MANY_REQUESTS {
            response.headers_mut().insert("retry-after", HeaderValue::from(retry_after_secs));
        }
        response
    }
}

/// Middleware for a fake's API routes: logs the request and its answer.
pub async fn inject(State(faults): State<Faults>, request: Request, next: Next) -> Response {
    let at_ms = chrono::Utc::now().timestamp_millis();
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, MAX_LOGGED_BODY).await.unwrap_or_default();
    let subject = subject_of(parts.uri.query(), &body);
    let (method, path) = (parts.method.to_string(), parts.uri.path().to_owned());
    let request = Request::from_parts(parts, axum::body::Body::from(body));
    let response = answer(&faults, request, next).await;
    let retry_after_secs =
        response.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
    faults.log(Answered { at_ms, method, path, subject, status: response.status().as_u16(), retry_after_secs });
    response
}

/// The `external_id` or `reference` a request names: in its query, else anywhere in its JSON body.
fn subject_of(query: Option<&str>, body: &[u8]) -> Option<String> {
    const KEYS: [&str; 2] = ["external_id", "reference"];
    if let Some(q) = query {
        if let Some((_, v)) = form_urlencoded::parse(q.as_bytes()).find(|(k, _)| KEYS.contains(&k.as_ref())) {
            return Some(v.into_owned());
        }
    }
    fn find(v: &serde_json::Value) -> Option<String> {
        match v {
            serde_json::Value::Object(map) => KEYS
                .iter()
                .find_map(|k| map.get(*k).and_then(|s| s.as_str()).map(str::to_owned))
                .or_else(|| map.values().find_map(find)),
            serde_json::Value::Array(items) => items.iter().find_map(find),
            _ => None,
        }
    }
    serde_json::from_slice::<serde_json::Value>(body).ok().as_ref().and_then(find)
}

async fn answer(faults: &Faults, request: Request, next: Next) -> Response {
    let config = faults.config();
    if config.error_rate <= 0.0 {
        return next.run(request).await;
    }
    let decision = config.decide(&mut rand::rng());
    let path = request.uri().path().to_owned();
    match decision {
        Decision::Pass => next.run(request).await,
        Decision::Slow(delay) => {
            info!(%path, ?delay, "fake: injecting a slow answer");
            tokio::time::sleep(delay).await;
            next.run(request).await
        }
        Decision::Fail(status) => {
            info!(%path, %status, "fake: injecting a failure");
            faults.failure(status, config.retry_after_secs)
        }
        Decision::ProcessThenFail(status) => {
            // The effect happens; only the answer is lost (deliberately discarded).
            drop(next.run(request).await);
            info!(%path, %status, "fake: request carried out, answer replaced by a failure");
            faults.failure(status, config.retry_after_secs)
        }
    }
}

/// `GET`, `POST` and `DELETE /__faults`.
pub fn admin_router(faults: Faults) -> Router {
    Router::new()
        .route("/__faults", get(show).post(configure).delete(reset))
        .route("/__requests", get(requests))
        .with_state(faults)
}

/// Every API request logged so far, oldest first.
async fn requests(State(faults): State<Faults>) -> Json<Vec<Answered>> {
    Json(faults.answered())
}

async fn show(State(faults): State<Faults>) -> Json<FaultConfig> {
    Json(faults.config())
}

async fn configure(State(faults): State<Faults>, body: Bytes) -> Response {
    let config: FaultConfig = match serde_json::from_slice(&body) {
        Ok(c) => c,
        Err(e) => return invalid(&e.to_string()),
    };
    if let Some(problem) = config.problem() {
        return invalid(&problem);
    }
    info!(error_rate = config.error_rate, kinds = ?config.kinds, status = ?config.status, lose_response = config.lose_response, "fake: faults configured");
    faults.set(config.clone());
    Json(config).into_response()
}

async fn reset(State(faults): State<Faults>) -> StatusCode {
    faults.set(FaultConfig::default());
    StatusCode::NO_CONTENT
}

fn invalid(message: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "error": message }))).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    fn config(json: &str) -> FaultConfig {
        serde_json::from_str(json).expect("config")
    }

    #[test]
    fn a_request_is_about_the_external_id_or_reference_it_names() {
        assert_eq!(subject_of(Some("external_id=r-1&x=2"), b""), Some("r-1".to_owned()));
        let body = br#"{"ticket": {"subject": "s", "external_id": "r-2"}}"#;
        assert_eq!(subject_of(None, body), Some("r-2".to_owned()));
        assert_eq!(subject_of(None, br#"{"email_address": "a@b.c", "reference": "r-3"}"#), Some("r-3".to_owned()));
        assert_eq!(subject_of(None, b"not json"), None);
    }

    #[test]
    fn defaults_fill_in_a_minimal_request() {
        let c = config(r#"{"error_rate": 0.3}"#);
        assert_eq!(c, FaultConfig { error_rate: 0.3, ..FaultConfig::default() });
        assert_eq!(c.problem(), None);
    }

    #[test]
    fn rates_outside_zero_to_one_and_unknown_fields_are_refused() {
        assert!(config(r#"{"error_rate": 1.5}"#).problem().is_some());
        assert!(config(r#"{"error_rate": -0.1}"#).problem().is_some());
        assert!(config(r#"{"error_rate": 1, "status": 200}"#).problem().is_some());
        assert!(config(r#"{"error_rate": 1, "kinds": []}"#).problem().is_some());
        assert!(serde_json::from_str::<FaultConfig>(r#"{"rate": 1}"#).is_err());
        assert!(serde_json::from_str::<FaultConfig>(r#"{"error_rate": 1, "kinds": ["503"]}"#).is_err());
    }

    #[test]
    fn rate_one_always_fails_rate_zero_never_does() {
        let mut rng = StdRng::seed_from_u64(7);
        let always = config(r#"{"error_rate": 1, "kinds": ["429"]}"#);
        let never = config(r#"{"error_rate": 0}"#);
        for _ in 0..1000 {
            assert_eq!(always.decide(&mut rng), Decision::Fail(StatusCode::TOO_MANY_REQUESTS));
            assert_eq!(never.decide(&mut rng), Decision::Pass);
        }
    }

    #[test]
    fn forced_status_and_lost_responses_take_precedence_over_kinds() {
        let mut rng = StdRng::seed_from_u64(7);
        let forced = config(r#"{"error_rate": 1, "status": 422}"#);
        assert_eq!(forced.decide(&mut rng), Decision::Fail(StatusCode::UNPROCESSABLE_ENTITY));
        let lost = config(r#"{"error_rate": 1, "lose_response": true}"#);
        assert_eq!(lost.decide(&mut rng), Decision::ProcessThenFail(StatusCode::INTERNAL_SERVER_ERROR));
    }

    #[test]
    fn kinds_are_all_chosen_at_a_middling_rate() {
        let mut rng = StdRng::seed_from_u64(11);
        let c = config(r#"{"error_rate": 0.5, "slow_ms": 10}"#);
        let decisions: Vec<Decision> = (0..2000).map(|_| c.decide(&mut rng)).collect();
        let count = |d: Decision| decisions.iter().filter(|x| **x == d).count();
        let passes = count(Decision::Pass);
        assert!((800..1200).contains(&passes), "{passes}");
        assert!(count(Decision::Fail(StatusCode::INTERNAL_SERVER_ERROR)) > 200);
        assert!(count(Decision::Fail(StatusCode::TOO_MANY_REQUESTS)) > 200);
        assert!(count(Decision::Slow(Duration::from_millis(10))) > 200);
    }
}
