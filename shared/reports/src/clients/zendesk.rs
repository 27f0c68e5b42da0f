//! Zendesk Tickets API: create with `Idempotency-Key`, find by `external_id`.

use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::clients::http::{code_only, read_body, retry_after, with_fresh_secret, HttpError, Service};
use crate::ports::TicketDesk;
use crate::request::ReportRequest;
use crate::secrets::{CachedSecret, SecretSource};

const SERVICE: Service = Service::Zendesk;

/// The ticket for one report. Built only from the report, so a retry sends the
/// same body and Zendesk's idempotency check accepts it as the same request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewTicket {
    #[serde(skip)]
    pub idempotency_key: String,
    pub subject: String,
    pub comment: Comment,
    pub external_id: String,
    pub requester: Requester,
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comment {
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Requester {
    pub email: String,
}

impl NewTicket {
    pub fn for_report(req: &ReportRequest) -> Self {
        let events: Vec<&str> = req.event_ids.iter().map(|e| e.as_str()).collect();
        let body = format!(
            "A user reported {} activity log event(s) as suspicious.\n\nReport: {}\nReported at: {}\nEvents: {}",
            events.len(),
            req.report_id,
            activity::domain::render_time(req.reported_at),
            events.join(", "),
        );
        Self {
            idempotency_key: req.report_id.to_string(),
            subject: "Suspicious activity reported".to_owned(),
            comment: Comment { body },
            external_id: req.report_id.to_string(),
            requester: Requester { email: req.email.clone() },
            tags: vec!["suspicious_activity".to_owned()],
        }
    }
}

#[derive(Serialize)]
struct CreateBody<'a> {
    ticket: &'a NewTicket,
}

#[derive(Deserialize)]
struct TicketBody {
    ticket: TicketRef,
}

#[derive(Deserialize)]
struct TicketList {
    tickets: Vec<TicketRef>,
}

#[derive(Deserialize)]
struct TicketRef {
    id: u64,
}

/// Zendesk's error body: `{"error": "RecordInvalid", "description": ...}`. Only the
/// code is kept: descriptions can echo the request.
#[derive(Deserialize)]
struct ErrorBody {
    error: Option<serde_json::Value>,
}

/// Reads Zendesk's answer to a ticket creation: the new ticket's id.
pub fn created_ticket(body: &[u8]) -> Result<u64, HttpError> {
    Ok(read_body::<TicketBody>(SERVICE, body)?.ticket.id)
}

/// Reads Zendesk's answer to a search by `external_id`: the oldest such ticket.
pub fn found_ticket(body: &[u8]) -> Result<Option<u64>, HttpError> {
    Ok(read_body::<TicketList>(SERVICE, body)?.tickets.iter().map(|t| t.id).min())
}

/// The code of a Zendesk error answer, `{"error": "RecordInvalid"}` or
/// `{"error": {"title": "Forbidden"}}`, when it has one shaped like a code.
pub fn error_code(body: &[u8]) -> Option<String> {
    let error = serde_json::from_slice::<ErrorBody>(body).ok()?.error?;
    match &error {
        serde_json::Value::String(code) => code_only(code),
        other => code_only(other.get("title")?.as_str()?),
    }
}

pub struct ZendeskClient<S = CachedSecret> {
    http: reqwest::Client,
    base_url: String,
    email: String,
    token: S,
}

impl<S: SecretSource> ZendeskClient<S> {
    /// Fails only if no TLS client can be built (see `kit::http`): a start-up fault.
    pub fn new(base_url: &str, email: impl Into<String>, token: S, timeout: Duration) -> Result<Self, reqwest::Error> {
        let http = kit::http::client_builder().timeout(timeout).build()?;
        Ok(Self { http, base_url: base_url.trim_end_matches('/').to_owned(), email: email.into(), token })
    }

    fn authorization(&self, token: &str) -> String {
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{}/token:{token}", self.email));
        format!("Basic {basic}")
    }

    /// The body of a success answer.
    async fn body(&self, resp: reqwest::Response) -> Result<bytes::Bytes, HttpError> {
        check(resp).await?.bytes().await.map_err(|e| HttpError::unreadable(SERVICE, &e))
    }
}

async fn check(resp: reqwest::Response) -> Result<reqwest::Response, HttpError> {
    let status = resp.status().as_u16();
    if resp.status().is_success() {
        return Ok(resp);
    }
    let retry_after = retry_after(resp.headers());
    let code = resp.bytes().await.ok().and_then(|body| error_code(&body));
    Err(HttpError::Status { service: SERVICE, status, code, retry_after })
}

#[async_trait]
impl<S: SecretSource> TicketDesk for ZendeskClient<S> {
    async fn find(&self, external_id: &str) -> Result<Option<u64>, HttpError> {
        with_fresh_secret(SERVICE, &self.token, |token| async move {
            let resp = self
                .http
                .get(format!("{}/api/v2/tickets.json", self.base_url))
                .query(&[("external_id", external_id)])
                .header("Authorization", self.authorization(&token))
                .send()
                .await
                .map_err(|e| HttpError::transport(SERVICE, &e))?;
            found_ticket(&self.body(resp).await?)
        })
        .await
    }

    /// A retry after a refused credential cannot make a second ticket: Zendesk did
    /// nothing with the refused request, and the retry carries the same
    /// `Idempotency-Key` and body anyway.
    async fn create(&self, ticket: &NewTicket) -> Result<u64, HttpError> {
        with_fresh_secret(SERVICE, &self.token, |token| async move {
            let resp = self
                .http
                .post(format!("{}/api/v2/tickets.json", self.base_url))
                .header("Authorization", self.authorization(&token))
                .header("Idempotency-Key", &ticket.idempotency_key)
                .json(&CreateBody { ticket })
                .send()
                .await
                .map_err(|e| HttpError::transport(SERVICE, &e))?;
            created_ticket(&self.body(resp).await?)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use kit::{Classify, ErrorClass};

    use super::*;
    use crate::request::ReportSubmission;
    use crate::testing::{Answer, FakeProvider, FakeSecret};

    const TICKET: &str = r#"{"ticket": {"id": 1001}}"#;
    const REFUSED: &str = r#"{"error": "Couldn't authenticate you"}"#;

    fn desk(provider: &FakeProvider, token: FakeSecret) -> ZendeskClient<FakeSecret> {
        ZendeskClient::new(&provider.base_url, "agent@example.gov.uk", token, Duration::from_secs(5)).unwrap()
    }

    fn request() -> ReportRequest {
        ReportRequest::parse(ReportSubmission {
            report_id: "8d0c7a4e-3b1f-4f5e-9a61-0c2b8e7d9f10".into(),
            user_id: "user-1".into(),
            email: "someone@example.gov.uk".into(),
            event_ids: vec!["e-1".into(), "e-2".into()],
            reported_at: "2024-06-01T12:00:00Z".parse().unwrap(),
        })
        .unwrap()
    }

    #[test]
    fn the_ticket_is_the_same_on_every_attempt() {
        let a = serde_json::to_value(NewTicket::for_report(&request())).unwrap();
        let b = serde_json::to_value(NewTicket::for_report(&request())).unwrap();
        assert_eq!(a, b, "the idempotency key only holds for an identical body");
        assert_eq!(a["external_id"], "8d0c7a4e-3b1f-4f5e-9a61-0c2b8e7d9f10");
        assert!(a.get("idempotency_key").is_none(), "the key travels as a header");
        assert!(a["comment"]["body"].as_str().unwrap().contains("e-1, e-2"));
    }

    #[tokio::test]
    async fn a_refused_token_is_read_again_and_the_one_ticket_created_with_the_new_one() {
        let provider = FakeProvider::start(vec![Answer::new(401, REFUSED), Answer::new(201, TICKET)]).await.unwrap();
        let token = FakeSecret::new("old-token");
        token.rotate("new-token");
        let desk = desk(&provider, token);

        assert_eq!(desk.create(&NewTicket::for_report(&request())).await.unwrap(), 1001);

        let seen = provider.seen();
        assert_eq!(seen.len(), 2, "one retry, no more");
        assert_eq!(seen[0].headers["authorization"], desk.authorization("old-token"));
        assert_eq!(seen[1].headers["authorization"], desk.authorization("new-token"));
        assert_eq!(
            seen[0].headers["idempotency-key"], seen[1].headers["idempotency-key"],
            "the retry is the same request to Zendesk's duplicate check"
        );
        assert_eq!(desk.token.refreshes(), 1);
    }

    #[tokio::test]
    async fn a_refused_token_that_did_not_rotate_is_permanent_at_once() {
        let provider = FakeProvider::start(vec![Answer::new(401, REFUSED), Answer::new(201, TICKET)]).await.unwrap();
        let desk = desk(&provider, FakeSecret::new("token"));

        let err = desk.create(&NewTicket::for_report(&request())).await.unwrap_err();

        assert_eq!((err.class(), err.kind()), (ErrorClass::Permanent, "provider_auth_failed"));
        assert_eq!(provider.seen().len(), 1, "the same token would be refused again");
        assert_eq!(desk.token.refreshes(), 1);
    }

    #[tokio::test]
    async fn a_rotated_token_refused_too_is_permanent() {
        let provider = FakeProvider::start(vec![Answer::new(403, "{}"), Answer::new(403, "{}")]).await.unwrap();
        let token = FakeSecret::new("old-token");
        token.rotate("new-token");
        let desk = desk(&provider, token);

        let err = desk.find("8d0c7a4e-3b1f-4f5e-9a61-0c2b8e7d9f10").await.unwrap_err();

        assert_eq!((err.class(), err.status()), (ErrorClass::Permanent, Some(403)));
        assert_eq!(provider.seen().len(), 2);
    }

    #[tokio::test]
    async fn throttling_carries_the_retry_after_and_blames_zendesk() {
        let provider = FakeProvider::start(vec![Answer::new(429, "{}").header("Retry-After", "120")]).await.unwrap();
        let desk = desk(&provider, FakeSecret::new("token"));

        let err = desk.create(&NewTicket::for_report(&request())).await.unwrap_err();

        assert_eq!(err.class(), ErrorClass::Retryable);
        assert_eq!(err.retry_after(), Some(Duration::from_secs(120)));
        assert_eq!(err.dependency(), Some("zendesk"));
        assert_eq!(desk.token.refreshes(), 0, "only a refused credential is read again");
    }
}
