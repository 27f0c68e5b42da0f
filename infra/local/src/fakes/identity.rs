//! The identity provider's published keys: `GET /.well-known/jwks.json`, the
//! key the local tokens are signed with (HS256, so a symmetric `oct` JWK — a
//! real provider publishes RSA or EC public keys). The IoT custom authorizer
//! reads it through the template's `JwtJwksUrl`, as in AWS it reads the
//! provider's, so it checks the very tokens the HTTP API accepts.

use std::sync::Arc;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine as _;
use serde_json::{json, Value};

/// The parameter naming the JWKS the IoT authorizer reads.
pub const JWKS_URL_PARAM: &str = "JwtJwksUrl";
/// Where the keys are served.
pub const JWKS_PATH: &str = "/.well-known/jwks.json";

pub fn jwks(secret: &str) -> Value {
    let k = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret.as_bytes());
    json!({"keys": [{"kty": "oct", "kid": "local", "alg": "HS256", "use": "sig", "k": k}]})
}

pub fn router(secret: &str) -> Router {
    let body = Arc::new(jwks(secret));
    Router::new()
        .route(JWKS_PATH, get(|State(body): State<Arc<Value>>| async move { Json((*body).clone()) }))
        .with_state(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_the_local_signing_secret() {
        let set: jsonwebtoken::jwk::JwkSet = serde_json::from_value(jwks("s3cret")).unwrap();
        let key = jsonwebtoken::DecodingKey::from_jwk(&set.keys[0]).unwrap();
        let token = crate::mint_token(
            "s3cret",
            &crate::TokenRequest {
                subject: "u".into(),
                issuer: None,
                audience: None,
                ttl: std::time::Duration::from_secs(60),
                claims: Default::default(),
            },
        )
        .unwrap();
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
        validation.validate_aud = false;
        assert!(jsonwebtoken::decode::<Value>(&token, &key, &validation).is_ok());
    }
}
