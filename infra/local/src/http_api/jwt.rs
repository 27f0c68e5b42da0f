//! Local JWTs: HS256 tokens verified as API Gateway's JWT authorizer would
//! (signature, `exp`, `iss`, `aud`), and minted for developers and tests.

use std::collections::BTreeMap;
use std::time::Duration;

use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Map, Value};

use crate::template::JwtAuthorizerSpec;

/// The secret the local stack signs and verifies with unless `LOCAL_JWT_SECRET` is set.
pub const DEFAULT_JWT_SECRET: &str = "local-dev-secret-change-me";

#[derive(Debug, thiserror::Error)]
pub enum JwtError {
    #[error("no bearer token")]
    Missing,
    #[error("token rejected: {0}")]
    Rejected(#[from] jsonwebtoken::errors::Error),
}

/// Verifies `Authorization` header values against one authorizer's rules.
#[derive(Clone)]
pub struct JwtVerifier {
    key: DecodingKey,
}

impl std::fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JwtVerifier")
    }
}

impl JwtVerifier {
    pub fn new(secret: &str) -> Self {
        Self { key: DecodingKey::from_secret(secret.as_bytes()) }
    }

    /// The token's claims if it is valid for `authorizer`. Accepts the value
    /// with or without the `Bearer ` prefix, as API Gateway does.
    pub fn verify(
        &self,
        authorization: Option<&str>,
        authorizer: &JwtAuthorizerSpec,
    ) -> Result<Map<String, Value>, JwtError> {
        let raw = authorization.map(str::trim).filter(|s| !s.is_empty()).ok_or(JwtError::Missing)?;
        let token = raw.strip_prefix("Bearer ").or_else(|| raw.strip_prefix("bearer ")).unwrap_or(raw).trim();
        let mut validation = Validation::new(Algorithm::HS256);
        // API Gateway allows no clock skew on exp.
        validation.leeway = 0;
        validation.validate_nbf = true;
        let mut required = vec!["exp"];
        if let Some(issuer) = &authorizer.issuer {
            validation.set_issuer(&[issuer]);
            required.push("iss");
        }
        if authorizer.audiences.is_empty() {
            validation.validate_aud = false;
        } else {
            validation.set_audience(&authorizer.audiences);
            required.push("aud");
        }
        validation.set_required_spec_claims(&required);
        let data = decode::<Map<String, Value>>(token, &self.key, &validation)?;
        Ok(data.claims)
    }
}

/// What a minted token says.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    pub subject: String,
    pub issuer: Option<String>,
    pub audience: Option<String>,
    pub ttl: Duration,
    /// Extra string claims (`email`, `scope`, ...).
    pub claims: BTreeMap<String, String>,
}

/// Signs an HS256 token with `sub`, `iss`, `aud`, `iat`, `exp` and the extra claims.
pub fn mint_token(secret: &str, request: &TokenRequest) -> Result<String, JwtError> {
    let now = chrono::Utc::now().timestamp();
    let ttl = i64::try_from(request.ttl.as_secs()).unwrap_or(i64::MAX / 2);
    let mut claims = Map::new();
    for (k, v) in &request.claims {
        claims.insert(k.clone(), Value::String(v.clone()));
    }
    claims.insert("sub".into(), Value::String(request.subject.clone()));
    if let Some(iss) = &request.issuer {
        claims.insert("iss".into(), Value::String(iss.clone()));
    }
    if let Some(aud) = &request.audience {
        claims.insert("aud".into(), Value::String(aud.clone()));
    }
    claims.insert("iat".into(), Value::from(now));
    claims.insert("exp".into(), Value::from(now.saturating_add(ttl)));
    Ok(encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(secret.as_bytes()))?)
}

/// Claims as the HTTP API event carries them: every value a string, arrays
/// as `[a b]` (what API Gateway does).
pub fn claims_as_strings(claims: &Map<String, Value>) -> Map<String, Value> {
    claims
        .iter()
        .map(|(k, v)| {
            let text = match v {
                Value::String(s) => s.clone(),
                Value::Array(items) => format!(
                    "[{}]",
                    items
                        .iter()
                        .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
                other => other.to_string(),
            };
            (k.clone(), Value::String(text))
        })
        .collect()
}

/// Scopes from `scope` (space-separated) or `scp`, or `None` when the token has none.
pub fn scopes(claims: &Map<String, Value>) -> Option<Vec<String>> {
    match claims.get("scope").or_else(|| claims.get("scp"))? {
        Value::String(s) => Some(s.split_whitespace().map(str::to_owned).collect()),
        Value::Array(items) => Some(items.iter().filter_map(Value::as_str).map(str::to_owned).collect()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn authorizer() -> JwtAuthorizerSpec {
        JwtAuthorizerSpec {
            name: "UserJwt".into(),
            issuer: Some("https://issuer/".into()),
            audiences: vec!["api".into()],
        }
    }

    fn token(secret: &str, audience: &str, ttl_secs: i64) -> String {
        let now = chrono::Utc::now().timestamp();
        let claims = serde_json::json!({
            "sub": "u1", "iss": "https://issuer/", "aud": audience,
            "iat": now - 120, "exp": now + ttl_secs, "groups": ["a", "b"], "n": 1
        });
        encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(secret.as_bytes())).expect("encode")
    }

    #[test]
    fn valid_token_yields_its_claims() {
        let v = JwtVerifier::new("s3cret");
        let header = format!("Bearer {}", token("s3cret", "api", 300));
        let claims = v.verify(Some(&header), &authorizer()).expect("valid");
        assert_eq!(claims["sub"], "u1");
        let strings = claims_as_strings(&claims);
        assert_eq!(strings["groups"], "[a b]");
        assert_eq!(strings["n"], "1");
    }

    #[test]
    fn expired_wrong_secret_wrong_audience_and_missing_are_rejected() {
        let v = JwtVerifier::new("s3cret");
        let a = authorizer();
        let expired = format!("Bearer {}", token("s3cret", "api", -5));
        assert!(v.verify(Some(&expired), &a).is_err());
        let wrong_secret = format!("Bearer {}", token("other", "api", 300));
        assert!(v.verify(Some(&wrong_secret), &a).is_err());
        let wrong_aud = format!("Bearer {}", token("s3cret", "someone-else", 300));
        assert!(v.verify(Some(&wrong_aud), &a).is_err());
        assert!(matches!(v.verify(None, &a), Err(JwtError::Missing)));
        assert!(v.verify(Some("Bearer not.a.jwt"), &a).is_err());
    }

    #[test]
    fn minted_tokens_verify() {
        let request = TokenRequest {
            subject: "u9".into(),
            issuer: Some("https://issuer/".into()),
            audience: Some("api".into()),
            ttl: Duration::from_secs(60),
            claims: [("scope".to_string(), "read write".to_string())].into(),
        };
        let token = mint_token("k", &request).expect("mint");
        let claims = JwtVerifier::new("k").verify(Some(&token), &authorizer()).expect("valid");
        assert_eq!(claims["sub"], "u9");
        assert_eq!(scopes(&claims), Some(vec!["read".to_string(), "write".to_string()]));
    }
}
