//! The identity provider's signing keys: read on first use (never at start, so a
//! cold start does not depend on the provider), kept for an hour, and re-read
//! early — at most once a minute — when a token names a key id not in the set
//! (the provider rotated its keys).

use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use kit::{Classify, ErrorClass};
use serde::Deserialize;
use tokio::sync::Mutex;

const KEEP_FOR: Duration = Duration::from_secs(3_600);
const REREAD_AT_MOST_EVERY: Duration = Duration::from_secs(60);
const FETCH_TIMEOUT: Duration = Duration::from_secs(3);

/// Where the keys are: the JWKS URL given, or the issuer's OpenID discovery
/// document's `jwks_uri` (how API Gateway's JWT authorizer finds them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    Url(String),
    Discovery { issuer: String },
}

/// The keys could not be read: the authorizer fails (IoT refuses the connection)
/// and its Errors alarm pages — a provider outage is not a bad token.
#[derive(Debug, thiserror::Error)]
pub enum KeysError {
    #[error("identity provider unreachable: {0}")]
    Unreachable(#[from] reqwest::Error),
    #[error("identity provider answered {0}")]
    Status(u16),
}

impl Classify for KeysError {
    fn class(&self) -> ErrorClass {
        ErrorClass::Retryable
    }
    fn kind(&self) -> &'static str {
        "jwks_unavailable"
    }
}

#[derive(Deserialize)]
struct Discovery {
    jwks_uri: String,
}

struct Cached {
    keys: JwkSet,
    read_at: Instant,
}

pub struct Jwks {
    source: KeySource,
    client: reqwest::Client,
    cached: Mutex<Option<Cached>>,
}

impl Jwks {
    pub fn new(source: KeySource, client: reqwest::Client) -> Self {
        Self { source, client, cached: Mutex::new(None) }
    }

    /// The key set, re-read if stale or if it lacks `kid`.
    pub async fn keys(&self, kid: Option<&str>) -> Result<JwkSet, KeysError> {
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached.as_ref() {
            let age = c.read_at.elapsed();
            let has_kid = kid.is_none_or(|k| c.keys.find(k).is_some());
            if age < KEEP_FOR && (has_kid || age < REREAD_AT_MOST_EVERY) {
                return Ok(c.keys.clone());
            }
        }
        let keys = self.fetch().await?;
        *cached = Some(Cached { keys: keys.clone(), read_at: Instant::now() });
        Ok(keys)
    }

    async fn fetch(&self) -> Result<JwkSet, KeysError> {
        let url = match &self.source {
            KeySource::Url(url) => url.clone(),
            KeySource::Discovery { issuer } => {
                let discovery = format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/'));
                self.get::<Discovery>(&discovery).await?.jwks_uri
            }
        };
        self.get::<JwkSet>(&url).await
    }

    async fn get<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, KeysError> {
        let response = self.client.get(url).timeout(FETCH_TIMEOUT).send().await?;
        if !response.status().is_success() {
            return Err(KeysError::Status(response.status().as_u16()));
        }
        Ok(response.json().await?)
    }
}
