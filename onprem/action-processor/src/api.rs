//! The approval API as the processor uses it: record EXECUTING before the action
//! (and learn what to run), EXECUTED / FAILED after, or that a rejection was seen.

use std::time::Duration;

use async_trait::async_trait;
use kit::{Classify, ErrorClass};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::config::ApiAuth;
use crate::sigv4::Signer;

/// The `error` of the approval API's own 404 for an unknown request
/// (functions/approval-api/src/error.rs). Only this answer lets a decision be
/// deleted as "no such request": API Gateway answers a wrong base path or stage
/// with a bare 404 (`{"message":"Not Found"}`), and that must not drop decisions.
pub const REQUEST_NOT_FOUND: &str = "request_not_found";

/// The request id the outage probe reports a rejection for. It should not exist
/// (the API then answers its own 404, proof that it is back); if a request ever
/// had this id, a rejection report changes nothing unless it was rejected, and
/// then only records that the rejection was seen. Never a begin: that could start
/// a real execution.
pub const PROBE_REQUEST_ID: &str = "action-processor-probe";

/// What to run, as the API (not the queue message) says.
#[derive(Debug, Clone, PartialEq)]
pub struct Action {
    pub request_id: String,
    pub issue_id: String,
    pub action: String,
    pub parameters: Value,
}

/// The answer to "I begin executing this request as attempt X".
#[derive(Debug, Clone, PartialEq)]
pub enum Begin {
    /// EXECUTING is recorded for this attempt: run it.
    Run(Action),
    /// An earlier attempt began and never reported: it crashed mid-action.
    Interrupted { attempt_id: String },
    /// EXECUTED or FAILED already: a redelivery.
    Finished { status: String },
    /// Not approved (rejected, or pending): nothing to run.
    NotApproved { status: String },
    /// The API itself says the request does not exist (a 404 carrying
    /// [`REQUEST_NOT_FOUND`]); any other 404 is [`ApiCallError::UnknownRoute`].
    NotFound,
}

/// The answer to a final report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    Yes,
    /// The request is in another state; `status` says which.
    Conflict {
        status: String,
    },
    NotFound,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Outcome {
    Executed,
    Failed,
}

impl Outcome {
    fn state(self) -> &'static str {
        match self {
            Outcome::Executed => "EXECUTED",
            Outcome::Failed => "FAILED",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiCallError {
    #[error("the approval API could not be reached: {0}")]
    Transport(String),
    #[error("the approval API refused our credentials ({0})")]
    Unauthorised(u16),
    #[error("the approval API answered {status}")]
    Status { status: u16 },
    /// A 404 that is not the API's "no such request": a gateway's, for a path it
    /// has no route for.
    #[error(
        "404 without the approval API's request_not_found: no such route (is APPROVAL_API_URL's base path or stage right?)"
    )]
    UnknownRoute,
    #[error("the approval API's answer was not understood: {0}")]
    Decode(String),
    #[error("the request could not be signed: {0}")]
    Signing(String),
}

impl Classify for ApiCallError {
    fn class(&self) -> ErrorClass {
        match self {
            ApiCallError::Transport(_) | ApiCallError::Signing(_) => ErrorClass::Retryable,
            ApiCallError::Status { status } if *status >= 500 || *status == 429 => ErrorClass::Retryable,
            // Credentials are a configuration fault: retrying later (after a fix or a
            // rotation) can help, and the message must not be lost meanwhile.
            ApiCallError::Unauthorised(_) => ErrorClass::Retryable,
            // A wrong URL is fixed by a person; until then nothing may be dropped.
            ApiCallError::UnknownRoute => ErrorClass::Retryable,
            ApiCallError::Status { .. } | ApiCallError::Decode(_) => ErrorClass::Permanent,
        }
    }
    fn kind(&self) -> &'static str {
        match self {
            ApiCallError::Transport(_) => "api_unreachable",
            ApiCallError::Unauthorised(_) => "api_unauthorised",
            ApiCallError::Status { .. } => "api_status",
            ApiCallError::Decode(_) => "api_decode",
            ApiCallError::Signing(_) => "api_signing",
            ApiCallError::UnknownRoute => "api_not_found_route",
        }
    }
    fn dependency(&self) -> Option<&'static str> {
        Some(crate::health::DEPENDENCY)
    }
}

impl ApiCallError {
    /// Whether this says the API is not usable at all (network, credentials,
    /// throttling, 5xx, a gateway's 404), as opposed to an answer about this one
    /// request. An outage opens the breaker ([`crate::health`]).
    pub fn is_outage(&self) -> bool {
        self.class() == ErrorClass::Retryable
    }
}

#[async_trait]
pub trait ApprovalApi: Send + Sync + 'static {
    async fn begin(&self, request_id: &str, attempt_id: &str) -> Result<Begin, ApiCallError>;
    async fn finish(
        &self,
        request_id: &str,
        attempt_id: &str,
        outcome: Outcome,
        output: &str,
    ) -> Result<Recorded, ApiCallError>;
    async fn record_rejection(&self, request_id: &str, attempt_id: &str) -> Result<Recorded, ApiCallError>;
    /// Whether the API answers at all, while the breaker is open: `Ok` once the API
    /// itself answers (any answer of its own), an outage error otherwise.
    async fn probe(&self) -> Result<(), ApiCallError>;
}

/// The API over HTTPS.
pub struct HttpApprovalApi {
    http: reqwest::Client,
    base_url: String,
    auth: Auth,
}

enum Auth {
    Bearer(String),
    SigV4(Signer),
}

impl HttpApprovalApi {
    pub fn new(
        base_url: &str,
        auth: &ApiAuth,
        sdk: &aws_config::SdkConfig,
        timeout: Duration,
    ) -> Result<Self, ApiCallError> {
        let http =
            kit::http::client_builder().timeout(timeout).build().map_err(|e| ApiCallError::Transport(e.to_string()))?;
        let auth = match auth {
            ApiAuth::Bearer(token) => Auth::Bearer(token.clone()),
            ApiAuth::SigV4 { region } => Auth::SigV4(Signer::new(sdk, region)?),
        };
        Ok(Self { http, base_url: base_url.trim_end_matches('/').to_owned(), auth })
    }

    /// POSTs a report; (status, JSON body).
    async fn report(&self, request_id: &str, body: &Value) -> Result<(u16, Value), ApiCallError> {
        let url = format!("{}/approval-requests/{request_id}/execution", self.base_url);
        let bytes = serde_json::to_vec(body).map_err(|e| ApiCallError::Decode(e.to_string()))?;
        let request = match &self.auth {
            Auth::Bearer(token) => self
                .http
                .post(&url)
                .bearer_auth(token)
                .header("content-type", "application/json")
                .body(bytes)
                .build()
                .map_err(|e| ApiCallError::Transport(e.to_string()))?,
            Auth::SigV4(signer) => signer.signed_post(&url, bytes).await?,
        };
        let response = self.http.execute(request).await.map_err(|e| ApiCallError::Transport(e.to_string()))?;
        let status = response.status().as_u16();
        if status == 401 || status == 403 {
            return Err(ApiCallError::Unauthorised(status));
        }
        let body: Value = response.json().await.unwrap_or(Value::Null);
        Ok((status, body))
    }
}

#[derive(Deserialize)]
struct RequestView {
    request_id: String,
    issue_id: String,
    action: String,
    #[serde(default)]
    action_parameters: Value,
}

fn status_of(body: &Value) -> String {
    body["status"].as_str().unwrap_or("UNKNOWN").to_owned()
}

/// A 404 is "no such request" only when the approval API says so.
fn not_found(body: &Value) -> Result<(), ApiCallError> {
    match body["error"].as_str() {
        Some(REQUEST_NOT_FOUND) => Ok(()),
        _ => Err(ApiCallError::UnknownRoute),
    }
}

fn recorded(status: u16, body: &Value) -> Result<Recorded, ApiCallError> {
    match status {
        200 => Ok(Recorded::Yes),
        404 => not_found(body).map(|()| Recorded::NotFound),
        409 => Ok(Recorded::Conflict { status: status_of(body) }),
        other => Err(ApiCallError::Status { status: other }),
    }
}

#[async_trait]
impl ApprovalApi for HttpApprovalApi {
    async fn begin(&self, request_id: &str, attempt_id: &str) -> Result<Begin, ApiCallError> {
        let (status, body) = self.report(request_id, &json!({"state": "EXECUTING", "attempt_id": attempt_id})).await?;
        match status {
            200 => {
                let view: RequestView =
                    serde_json::from_value(body).map_err(|e| ApiCallError::Decode(e.to_string()))?;
                Ok(Begin::Run(Action {
                    request_id: view.request_id,
                    issue_id: view.issue_id,
                    action: view.action,
                    parameters: view.action_parameters,
                }))
            }
            404 => not_found(&body).map(|()| Begin::NotFound),
            409 => Ok(match body["error"].as_str() {
                Some("interrupted") => {
                    Begin::Interrupted { attempt_id: body["attempt_id"].as_str().unwrap_or_default().to_owned() }
                }
                Some("finished") => Begin::Finished { status: status_of(&body) },
                _ => Begin::NotApproved { status: status_of(&body) },
            }),
            other => Err(ApiCallError::Status { status: other }),
        }
    }

    async fn finish(
        &self,
        request_id: &str,
        attempt_id: &str,
        outcome: Outcome,
        output: &str,
    ) -> Result<Recorded, ApiCallError> {
        let body = json!({"state": outcome.state(), "attempt_id": attempt_id, "output": output});
        let (status, body) = self.report(request_id, &body).await?;
        recorded(status, &body)
    }

    async fn record_rejection(&self, request_id: &str, attempt_id: &str) -> Result<Recorded, ApiCallError> {
        let (status, body) =
            self.report(request_id, &json!({"state": "REJECTION_RECORDED", "attempt_id": attempt_id})).await?;
        recorded(status, &body)
    }

    async fn probe(&self) -> Result<(), ApiCallError> {
        match self.record_rejection(PROBE_REQUEST_ID, "probe").await {
            Ok(_) => Ok(()),
            Err(e) if e.is_outage() => Err(e),
            // A 400 or an odd body still came from the API itself: it is back.
            Err(_) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_apis_own_404_means_no_such_request() {
        let own = json!({"error": "request_not_found", "message": "no such approval request"});
        assert_eq!(recorded(404, &own).unwrap(), Recorded::NotFound);
        for gateway in [json!({"message": "Not Found"}), Value::Null, json!({"error": "not_found"})] {
            let e = recorded(404, &gateway).unwrap_err();
            assert!(matches!(e, ApiCallError::UnknownRoute), "{gateway}: {e}");
            assert!(e.is_outage(), "kept, not dropped");
        }
    }

    #[test]
    fn outages_are_told_from_answers_about_one_request() {
        for e in [
            ApiCallError::Transport("refused".into()),
            ApiCallError::Unauthorised(403),
            ApiCallError::Status { status: 503 },
            ApiCallError::Status { status: 429 },
            ApiCallError::UnknownRoute,
        ] {
            assert!(e.is_outage(), "{e}");
            assert_eq!(e.dependency(), Some("approval_api"));
        }
        assert!(!ApiCallError::Status { status: 400 }.is_outage());
        assert!(!ApiCallError::Decode("x".into()).is_outage());
    }
}
