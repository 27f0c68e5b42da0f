//! Provider credentials from AWS Secrets Manager, fetched on first use and cached.
//!
//! Fetched lazily (not at start-up) so a Secrets Manager hiccup fails a record,
//! which is retried, rather than the cold start, which would fail the whole batch.
//! Cached for `ttl` so a rotation is picked up without a redeploy, and read again
//! at once when a provider refuses the cached value (see `clients::http::with_fresh_secret`).

use std::time::{Duration, Instant};

use async_trait::async_trait;
use kit::sdk::{classify_sdk_error, SdkFailure};
use kit::{Classify, ErrorClass};
use tokio::sync::Mutex;

pub const DEFAULT_TTL: Duration = Duration::from_secs(300);

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("Secrets Manager GetSecretValue for {name} failed: {failure}")]
    Fetch { name: String, failure: SdkFailure },
    #[error("secret {name} has no string value")]
    Empty { name: String },
}

impl Classify for SecretError {
    fn class(&self) -> ErrorClass {
        match self {
            SecretError::Fetch { failure, .. } => failure.class,
            SecretError::Empty { .. } => ErrorClass::Permanent,
        }
    }
    fn kind(&self) -> &'static str {
        "secret_unavailable"
    }
}

/// A provider credential as the clients use it.
#[async_trait]
pub trait SecretSource: Send + Sync + 'static {
    /// The current value (cached while fresh).
    async fn get(&self) -> Result<String, SecretError>;
    /// The value as the store holds it now, after a provider refused `stale`. If
    /// another caller already replaced `stale`, that newer value is returned without
    /// another read, so a batch of refusals costs one read, not one each.
    async fn refresh(&self, stale: &str) -> Result<String, SecretError>;
}

pub struct CachedSecret {
    client: aws_sdk_secretsmanager::Client,
    name: String,
    ttl: Duration,
    value: Mutex<Option<(String, Instant)>>,
}

impl CachedSecret {
    pub fn new(client: aws_sdk_secretsmanager::Client, name: impl Into<String>) -> Self {
        Self { client, name: name.into(), ttl: DEFAULT_TTL, value: Mutex::new(None) }
    }

    async fn fetch(&self) -> Result<String, SecretError> {
        let out = self
            .client
            .get_secret_value()
            .secret_id(&self.name)
            .send()
            .await
            .map_err(|e| SecretError::Fetch { name: self.name.clone(), failure: classify_sdk_error(&e) })?;
        out.secret_string.filter(|s| !s.is_empty()).ok_or(SecretError::Empty { name: self.name.clone() })
    }
}

#[async_trait]
impl SecretSource for CachedSecret {
    async fn get(&self) -> Result<String, SecretError> {
        // Held across the read: concurrent records wait for one fetch, not one each.
        let mut cached = self.value.lock().await;
        if let Some((value, at)) = cached.as_ref() {
            if at.elapsed() < self.ttl {
                return Ok(value.clone());
            }
        }
        let value = self.fetch().await?;
        *cached = Some((value.clone(), Instant::now()));
        Ok(value)
    }

    async fn refresh(&self, stale: &str) -> Result<String, SecretError> {
        let mut cached = self.value.lock().await;
        if let Some((value, _)) = cached.as_ref() {
            if value != stale {
                return Ok(value.clone());
            }
        }
        // The refused value is of no use any more, even if this read fails.
        *cached = None;
        let value = self.fetch().await?;
        *cached = Some((value.clone(), Instant::now()));
        Ok(value)
    }
}
