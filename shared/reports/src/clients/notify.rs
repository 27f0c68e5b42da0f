//! GOV.UK Notify: send an email, find one by `reference`.
//!
//! Notify authenticates each request with a JWT (HS256) whose `iss` is the service
//! id and `iat` the current time (Notify refuses clocks more than 30 s out), both
//! taken from the API key `{key_name}-{service_id}-{secret}`.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::clients::http::{code_only, read_body, retry_after, with_fresh_secret, HttpError, Service};
use crate::ports::Mailer;
use crate::secrets::{CachedSecret, SecretSource};

const SERVICE: Service = Service::Notify;
const UUID_LEN: usize = 36;

/// A Notify API key split into what signing needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub service_id: String,
    secret: String,
}

impl ApiKey {
    /// The last 36 characters are the secret, the 36 before them (and a dash) the service id.
    pub fn parse(key: &str) -> Option<Self> {
        let key = key.trim();
        if key.len() < 2 * UUID_LEN + 1 || !key.is_ascii() {
            return None;
        }
        let secret = &key[key.len() - UUID_LEN..];
        let service_id = &key[key.len() - 2 * UUID_LEN - 1..key.len() - UUID_LEN - 1];
        let is_uuid = |s: &str| uuid::Uuid::parse_str(s).is_ok();
        (is_uuid(secret) && is_uuid(service_id))
            .then(|| Self { service_id: service_id.to_owned(), secret: secret.to_owned() })
    }

    /// A bearer token for one request.
    pub fn token(&self, now: chrono::DateTime<chrono::Utc>) -> Result<String, jsonwebtoken::errors::Error> {
        #[derive(Serialize)]
        struct Claims<'a> {
            iss: &'a str,
            iat: i64,
        }
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &Claims { iss: &self.service_id, iat: now.timestamp() },
            &jsonwebtoken::EncodingKey::from_secret(self.secret.as_bytes()),
        )
    }
}

/// One confirmation email. `reference` is the report id: it makes the email findable.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EmailRequest {
    pub email_address: String,
    pub template_id: String,
    pub personalisation: BTreeMap<String, String>,
    pub reference: String,
}

#[derive(Deserialize)]
struct Sent {
    id: String,
}

#[derive(Deserialize)]
struct Listing {
    notifications: Vec<Sent>,
}

/// `{"status_code": 400, "errors": [{"error": "BadRequestError", "message": ...}]}`:
/// the code is kept, the message (which can quote the request) is not.
#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    errors: Vec<ErrorEntry>,
}

#[derive(Deserialize)]
struct ErrorEntry {
    error: String,
}

/// Reads Notify's answer to a sent email: the notification's id.
pub fn sent_notification(body: &[u8]) -> Result<String, HttpError> {
    notification_id(read_body::<Sent>(SERVICE, body)?.id)
}

/// Reads Notify's answer to a search by reference: the oldest notification (the
/// list is newest first, and the oldest is the one the first attempt sent).
pub fn found_notification(body: &[u8]) -> Result<Option<String>, HttpError> {
    read_body::<Listing>(SERVICE, body)?.notifications.into_iter().last().map(|n| notification_id(n.id)).transpose()
}

/// The code of a Notify error answer (`{"errors": [{"error": "BadRequestError"}]}`),
/// when it has one shaped like a code.
pub fn error_code(body: &[u8]) -> Option<String> {
    code_only(&serde_json::from_slice::<ErrorBody>(body).ok()?.errors.into_iter().next()?.error)
}

/// The id is stored on the report and shown by the query API: only what Notify
/// documents, a UUID, is taken.
fn notification_id(id: String) -> Result<String, HttpError> {
    match uuid::Uuid::try_parse(&id) {
        Ok(_) if id.len() == UUID_LEN => Ok(id),
        _ => Err(HttpError::Body { service: SERVICE, message: "the notification id is not a UUID".into() }),
    }
}

pub struct NotifyClient<S = CachedSecret> {
    http: reqwest::Client,
    base_url: String,
    key: S,
}

impl<S: SecretSource> NotifyClient<S> {
    /// Fails only if no TLS client can be built (see `kit::http`): a start-up fault.
    pub fn new(base_url: &str, key: S, timeout: Duration) -> Result<Self, reqwest::Error> {
        let http = kit::http::client_builder().timeout(timeout).build()?;
        Ok(Self { http, base_url: base_url.trim_end_matches('/').to_owned(), key })
    }

    /// The body of a success answer.
    async fn body(&self, resp: reqwest::Response) -> Result<bytes::Bytes, HttpError> {
        check(resp).await?.bytes().await.map_err(|e| HttpError::unreadable(SERVICE, &e))
    }
}

fn bearer(raw_key: &str) -> Result<String, HttpError> {
    let credentials = |message: String| HttpError::Credentials { service: SERVICE, message };
    let key = ApiKey::parse(raw_key).ok_or_else(|| credentials("the API key is not in Notify's format".into()))?;
    let token = key.token(chrono::Utc::now()).map_err(|e| credentials(e.to_string()))?;
    Ok(format!("Bearer {token}"))
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
impl<S: SecretSource> Mailer for NotifyClient<S> {
    async fn find(&self, reference: &str) -> Result<Option<String>, HttpError> {
        with_fresh_secret(SERVICE, &self.key, |key| async move {
            let resp = self
                .http
                .get(format!("{}/v2/notifications", self.base_url))
                .query(&[("reference", reference), ("template_type", "email")])
                .header("Authorization", bearer(&key)?)
                .send()
                .await
                .map_err(|e| HttpError::transport(SERVICE, &e))?;
            found_notification(&self.body(resp).await?)
        })
        .await
    }

    /// Notify has no idempotency key, but a refused credential means it sent
    /// nothing, so the one retry cannot send the email twice.
    async fn send(&self, email: &EmailRequest) -> Result<String, HttpError> {
        with_fresh_secret(SERVICE, &self.key, |key| async move {
            let resp = self
                .http
                .post(format!("{}/v2/notifications/email", self.base_url))
                .header("Authorization", bearer(&key)?)
                .json(email)
                .send()
                .await
                .map_err(|e| HttpError::transport(SERVICE, &e))?;
            sent_notification(&self.body(resp).await?)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use kit::{Classify, ErrorClass};

    use super::*;
    use crate::testing::{Answer, FakeProvider, FakeSecret};

    const SERVICE_ID: &str = "26785a09-ab16-4eb0-8407-a37497a57506";
    const SECRET: &str = "3d844edf-8d35-48ac-975b-e847b4f122b0";
    const ROTATED: &str = "9b1e4d2a-7c3f-4e8b-a5d6-0f1e2d3c4b5a";
    const SENT: &str = r#"{"id": "740e5834-3a29-46b4-9a6f-16142fde533a"}"#;
    const AUTH_ERROR: &str = r#"{"status_code": 403, "errors": [{"error": "AuthError", "message": "Invalid token"}]}"#;

    fn key(secret: &str) -> String {
        format!("my_key-{SERVICE_ID}-{secret}")
    }

    fn mailer(provider: &FakeProvider, key: FakeSecret) -> NotifyClient<FakeSecret> {
        NotifyClient::new(&provider.base_url, key, Duration::from_secs(5)).unwrap()
    }

    fn email() -> EmailRequest {
        EmailRequest {
            email_address: "someone@example.gov.uk".into(),
            template_id: "template-1".into(),
            personalisation: BTreeMap::new(),
            reference: "8d0c7a4e-3b1f-4f5e-9a61-0c2b8e7d9f10".into(),
        }
    }

    /// Which of `secrets` signed a request's bearer token.
    fn signed_with<'a>(authorization: &str, secrets: &[&'a str]) -> Option<&'a str> {
        let token = authorization.strip_prefix("Bearer ")?;
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        secrets.iter().copied().find(|s| {
            let key = jsonwebtoken::DecodingKey::from_secret(s.as_bytes());
            jsonwebtoken::decode::<serde_json::Value>(token, &key, &validation).is_ok()
        })
    }

    #[test]
    fn the_key_splits_into_service_id_and_secret() {
        let key = ApiKey::parse(&format!("my_test_key-{SERVICE_ID}-{SECRET}")).unwrap();
        assert_eq!(key.service_id, SERVICE_ID);
        assert_eq!(key.secret, SECRET);
        assert!(ApiKey::parse("too-short").is_none());
        assert!(ApiKey::parse(&format!("k-{SERVICE_ID}-not-a-uuid-not-a-uuid-not-a-uuid-xx")).is_none());
    }

    #[test]
    fn the_token_carries_the_service_id_and_issue_time() {
        let key = ApiKey::parse(&format!("k-{SERVICE_ID}-{SECRET}")).unwrap();
        let now: chrono::DateTime<chrono::Utc> = "2024-06-01T12:00:00Z".parse().unwrap();
        let token = key.token(now).unwrap();
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        let data = jsonwebtoken::decode::<serde_json::Value>(
            &token,
            &jsonwebtoken::DecodingKey::from_secret(SECRET.as_bytes()),
            &validation,
        )
        .unwrap();
        assert_eq!(data.claims["iss"], SERVICE_ID);
        assert_eq!(data.claims["iat"], now.timestamp());
    }

    #[tokio::test]
    async fn a_refused_key_is_read_again_and_the_email_sent_once_with_the_new_one() {
        let provider = FakeProvider::start(vec![Answer::new(403, AUTH_ERROR), Answer::new(201, SENT)]).await.unwrap();
        let secret = FakeSecret::new(&key(SECRET));
        secret.rotate(&key(ROTATED));
        let mailer = mailer(&provider, secret);

        assert_eq!(mailer.send(&email()).await.unwrap(), "740e5834-3a29-46b4-9a6f-16142fde533a");

        let seen = provider.seen();
        assert_eq!(seen.len(), 2, "one retry, no more");
        assert_eq!(signed_with(&seen[0].headers["authorization"], &[SECRET, ROTATED]), Some(SECRET));
        assert_eq!(signed_with(&seen[1].headers["authorization"], &[SECRET, ROTATED]), Some(ROTATED));
        assert_eq!(mailer.key.refreshes(), 1);
    }

    #[tokio::test]
    async fn a_refused_key_that_did_not_rotate_is_permanent_at_once() {
        let provider = FakeProvider::start(vec![Answer::new(401, "{}"), Answer::new(201, SENT)]).await.unwrap();
        let mailer = mailer(&provider, FakeSecret::new(&key(SECRET)));

        let err = mailer.send(&email()).await.unwrap_err();

        assert_eq!((err.class(), err.kind()), (ErrorClass::Permanent, "provider_auth_failed"));
        assert_eq!(provider.seen().len(), 1, "the same key would be refused again");
    }

    #[tokio::test]
    async fn throttling_carries_the_retry_after_and_blames_notify() {
        let provider = FakeProvider::start(vec![Answer::new(429, "{}").header("Retry-After", "45")]).await.unwrap();
        let mailer = mailer(&provider, FakeSecret::new(&key(SECRET)));

        let err = mailer.find("8d0c7a4e-3b1f-4f5e-9a61-0c2b8e7d9f10").await.unwrap_err();

        assert_eq!(err.class(), ErrorClass::Retryable);
        assert_eq!(err.retry_after(), Some(Duration::from_secs(45)));
        assert_eq!(err.dependency(), Some("notify"));
    }
}
