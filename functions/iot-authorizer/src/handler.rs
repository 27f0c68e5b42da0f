//! One IoT connection attempt: the password's token verified against the
//! provider's keys, then the user's policy — or a denial. Only an unreadable key
//! set is an error (IoT refuses the connection either way, but that one pages).

use async_trait::async_trait;
use jsonwebtoken::jwk::JwkSet;
use tracing::info;

use crate::event::{AuthorizerEvent, AuthorizerResponse};
use crate::jwks::{Jwks, KeysError};
use crate::policy::{self, PolicySettings};
use crate::token::{self, Expected};

/// Where the signing keys come from (the provider's JWKS; a fixed set in tests).
#[async_trait]
pub trait KeyStore: Send + Sync {
    async fn keys(&self, kid: Option<&str>) -> Result<JwkSet, KeysError>;
}

#[async_trait]
impl KeyStore for Jwks {
    async fn keys(&self, kid: Option<&str>) -> Result<JwkSet, KeysError> {
        Jwks::keys(self, kid).await
    }
}

pub struct Authorizer<K> {
    pub keys: K,
    pub expected: Expected,
    pub policy: PolicySettings,
}

impl<K: KeyStore> Authorizer<K> {
    /// `now`: Unix seconds.
    pub async fn handle(&self, event: &AuthorizerEvent, now: i64) -> Result<AuthorizerResponse, KeysError> {
        let connection = event.connection_metadata.id.as_deref().unwrap_or("-");
        let token = match token::password_token(event) {
            Ok(t) => t,
            Err(reason) => return Ok(denied(connection, &reason.to_string())),
        };
        let kid = match token::key_id(&token) {
            Ok(kid) => kid,
            Err(reason) => return Ok(denied(connection, &reason.to_string())),
        };
        let keys = self.keys.keys(kid.as_deref()).await?;
        let claims = match token::verify(&token, &keys, &self.expected) {
            Ok(c) => c,
            Err(reason) => return Ok(denied(connection, &reason.to_string())),
        };
        match policy::allow(&self.policy, &claims.sub, claims.exp, now) {
            Ok(response) => {
                info!(connection, principal_id = %response.principal_id, disconnect_after = response.disconnect_after_in_seconds, "connection authorized");
                Ok(response)
            }
            Err(reason) => Ok(denied(connection, &reason.to_string())),
        }
    }
}

fn denied(connection: &str, reason: &str) -> AuthorizerResponse {
    info!(connection, reason, "connection denied");
    policy::deny()
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
    use serde_json::json;

    use super::*;

    struct Fixed(JwkSet);

    #[async_trait]
    impl KeyStore for Fixed {
        async fn keys(&self, _kid: Option<&str>) -> Result<JwkSet, KeysError> {
            Ok(self.0.clone())
        }
    }

    struct Down;

    #[async_trait]
    impl KeyStore for Down {
        async fn keys(&self, _kid: Option<&str>) -> Result<JwkSet, KeysError> {
            Err(KeysError::Status(503))
        }
    }

    fn authorizer<K: KeyStore>(keys: K) -> Authorizer<K> {
        Authorizer {
            keys,
            expected: Expected { issuer: "https://issuer/".into(), audience: "workflows-api".into() },
            policy: PolicySettings {
                arn_prefix: "arn:aws:iot:eu-west-2:123456789012".into(),
                topic_prefix: "notifications-".into(),
            },
        }
    }

    fn fixed() -> Fixed {
        let k = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("secret");
        Fixed(serde_json::from_value(json!({"keys": [{"kty": "oct", "k": k, "alg": "HS256"}]})).unwrap())
    }

    fn event_with(token: &str) -> AuthorizerEvent {
        let password = base64::engine::general_purpose::STANDARD.encode(token);
        serde_json::from_value(json!({
            "signatureVerified": false,
            "protocols": ["tls", "http", "mqtt"],
            "protocolData": {"mqtt": {"username": "any", "password": password, "clientId": "user-1/tab"}},
            "connectionMetadata": {"id": "c-1"},
        }))
        .unwrap()
    }

    fn token(sub: &str) -> String {
        let now = chrono::Utc::now().timestamp();
        let claims = json!({"sub": sub, "iss": "https://issuer/", "aud": "workflows-api", "exp": now + 900});
        encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(b"secret")).unwrap()
    }

    #[tokio::test]
    async fn the_sample_event_with_a_valid_token_gets_the_users_policy() {
        let now = chrono::Utc::now().timestamp();
        let response = authorizer(fixed()).handle(&event_with(&token("user-1")), now).await.unwrap();
        assert!(response.is_authenticated);
        let text = serde_json::to_string(&response.policy_documents).unwrap();
        assert!(text.contains("topicfilter/notifications-user-1\""), "{text}");
    }

    #[tokio::test]
    async fn bad_credentials_are_denied_not_errors() {
        let now = chrono::Utc::now().timestamp();
        let a = authorizer(fixed());
        for event in [event_with("not-a-token"), event_with(&token("*")), AuthorizerEvent::default()] {
            let response = a.handle(&event, now).await.unwrap();
            assert!(!response.is_authenticated);
            assert!(response.policy_documents.is_empty());
        }
    }

    #[tokio::test]
    async fn an_unreachable_identity_provider_is_an_error() {
        let now = chrono::Utc::now().timestamp();
        assert!(authorizer(Down).handle(&event_with(&token("user-1")), now).await.is_err());
    }

    #[test]
    fn the_sample_event_parses() {
        let event: AuthorizerEvent =
            serde_json::from_str(include_str!("../../../events/iot-authorizer/connect.json")).unwrap();
        assert_eq!(event.protocol_data.mqtt.and_then(|m| m.password).as_deref(), Some("bm90LWEtdG9rZW4="));
    }
}
