//! GOV.UK Notify: send an email, find one by `reference`.
//!
//! Notify authenticates each request with a JWT (HS256) whose `iss` is the service
//! id and `iat` the current time (Notify refuses clocks more than 30 s out), both
//! taken from the API key `{key_name}-{service_id}-{secret}`.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::clients::http::{code_only, read_body, retry_after, HttpError};
use crate::ports::Mailer;
use crate::secrets::CachedSecret;

const SERVICE: &str = "Notify";
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

pub struct NotifyClient {
    http: reqwest::Client,
    base_url: String,
    key: CachedSecret,
}

impl NotifyClient {
    /// Fails only if no TLS client can be built (see `kit::http`): a start-up fault.
    pub fn new(base_url: &str, key: CachedSecret, timeout: Duration) -> Result<Self, reqwest::Error> {
        let http = kit::http::client_builder().timeout(timeout).build()?;
        Ok(Self { http, base_url: base_url.trim_end_matches('/').to_owned(), key })
    }

    async fn bearer(&self) -> Result<String, HttpError> {
        let credentials = |message: String| HttpError::Credentials { service: SERVICE, message };
        let raw = self.key.get().await.map_err(|e| credentials(kit::error::chain(&e)))?;
        let key = ApiKey::parse(&raw).ok_or_else(|| credentials("the API key is not in Notify's format".into()))?;
        let token = key.token(chrono::Utc::now()).map_err(|e| credentials(e.to_string()))?;
        Ok(format!("Bearer {token}"))
    }

    async fn check(&self, resp: reqwest::Response) -> Result<reqwest::Response, HttpError> {
        let status = resp.status().as_u16();
        if resp.status().is_success() {
            return Ok(resp);
        }
        if status == 403 {
            self.key.invalidate().await;
        }
        let retry_after = retry_after(resp.headers());
        let code = resp.bytes().await.ok().and_then(|body| error_code(&body));
        Err(HttpError::Status { service: SERVICE, status, code, retry_after })
    }

    /// The body of a success answer.
    async fn body(&self, resp: reqwest::Response) -> Result<bytes::Bytes, HttpError> {
        self.check(resp).await?.bytes().await.map_err(|e| HttpError::unreadable(SERVICE, &e))
    }
}

#[async_trait]
impl Mailer for NotifyClient {
    async fn find(&self, reference: &str) -> Result<Option<String>, HttpError> {
        let resp = self
            .http
            .get(format!("{}/v2/notifications", self.base_url))
            .query(&[("reference", reference), ("template_type", "email")])
            .header("Authorization", self.bearer().await?)
            .send()
            .await
            .map_err(|e| HttpError::transport(SERVICE, &e))?;
        found_notification(&self.body(resp).await?)
    }

    async fn send(&self, email: &EmailRequest) -> Result<String, HttpError> {
        let resp = self
            .http
            .post(format!("{}/v2/notifications/email", self.base_url))
            .header("Authorization", self.bearer().await?)
            .json(email)
            .send()
            .await
            .map_err(|e| HttpError::transport(SERVICE, &e))?;
        sent_notification(&self.body(resp).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVICE_ID: &str = "26785a09-ab16-4eb0-8407-a37497a57506";
    const SECRET: &str = "3d844edf-8d35-48ac-975b-e847b4f122b0";

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
}
