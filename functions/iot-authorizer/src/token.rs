//! The token: read from the MQTT password (base64, as IoT Core hands it over) and
//! verified as the HTTP API's JWT authorizer verifies it — signature by a key of
//! the identity provider's JWKS, `iss`, `aud` (or, without `aud`, `client_id`, as
//! API Gateway accepts Cognito access tokens), `exp` and `nbf` with no leeway.

use base64::Engine as _;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm};
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use crate::event::AuthorizerEvent;

/// Why a connection's credentials are not accepted. None of these is an error of
/// the authorizer: each is a denial.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("no MQTT password")]
    Missing,
    #[error("the MQTT password is not base64 UTF-8")]
    Encoding,
    #[error("not a JWT: {0}")]
    Malformed(String),
    #[error("no key of the identity provider has this token's key id")]
    UnknownKey,
    #[error("the token's algorithm is not its key's")]
    Algorithm,
    #[error("token rejected: {0}")]
    Rejected(String),
    #[error("the token is for another audience")]
    Audience,
}

/// What the policy needs from a valid token.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub exp: i64,
    #[serde(default)]
    aud: Option<Audience>,
    #[serde(default)]
    client_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

/// The issuer and audience the HTTP API's JWT authorizer requires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    pub issuer: String,
    pub audience: String,
}

/// The bearer token the client sent as its MQTT password (a leading `Bearer ` is
/// allowed, as in an `Authorization` header).
pub fn password_token(event: &AuthorizerEvent) -> Result<String, TokenError> {
    let encoded = event.protocol_data.mqtt.as_ref().and_then(|m| m.password.as_deref()).ok_or(TokenError::Missing)?;
    let bytes = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).map_err(|_| TokenError::Encoding)?;
    let text = String::from_utf8(bytes).map_err(|_| TokenError::Encoding)?;
    let token = text.trim();
    let token = token.strip_prefix("Bearer ").unwrap_or(token).trim();
    if token.is_empty() {
        return Err(TokenError::Missing);
    }
    Ok(token.to_owned())
}

/// The key id the token names, if any (to know whether the key set must be re-read).
pub fn key_id(token: &str) -> Result<Option<String>, TokenError> {
    decode_header(token).map(|h| h.kid).map_err(|e| TokenError::Malformed(e.to_string()))
}

/// The algorithm a key is for: its `alg`, else the one its type implies. The
/// token's header must name this one, so a token cannot pick how it is checked
/// (no HS256 with an RSA public key as the secret, no `none`).
fn algorithm_of(jwk: &Jwk) -> Option<Algorithm> {
    if let Some(alg) = jwk.common.key_algorithm {
        return match alg {
            KeyAlgorithm::HS256 => Some(Algorithm::HS256),
            KeyAlgorithm::HS384 => Some(Algorithm::HS384),
            KeyAlgorithm::HS512 => Some(Algorithm::HS512),
            KeyAlgorithm::RS256 => Some(Algorithm::RS256),
            KeyAlgorithm::RS384 => Some(Algorithm::RS384),
            KeyAlgorithm::RS512 => Some(Algorithm::RS512),
            KeyAlgorithm::PS256 => Some(Algorithm::PS256),
            KeyAlgorithm::PS384 => Some(Algorithm::PS384),
            KeyAlgorithm::PS512 => Some(Algorithm::PS512),
            KeyAlgorithm::ES256 => Some(Algorithm::ES256),
            KeyAlgorithm::ES384 => Some(Algorithm::ES384),
            KeyAlgorithm::EdDSA => Some(Algorithm::EdDSA),
            _ => None,
        };
    }
    match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Some(Algorithm::RS256),
        AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P256 => Some(Algorithm::ES256),
        AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P384 => Some(Algorithm::ES384),
        AlgorithmParameters::OctetKey(_) => Some(Algorithm::HS256),
        AlgorithmParameters::OctetKeyPair(_) => Some(Algorithm::EdDSA),
        _ => None,
    }
}

/// The key that must have signed the token: the one with its `kid`, or, for a
/// token without one, the set's only key.
fn key_for<'a>(keys: &'a JwkSet, kid: Option<&str>) -> Result<&'a Jwk, TokenError> {
    match kid {
        Some(kid) => keys.find(kid).ok_or(TokenError::UnknownKey),
        None if keys.keys.len() == 1 => keys.keys.first().ok_or(TokenError::UnknownKey),
        None => Err(TokenError::UnknownKey),
    }
}

/// Verifies `token` against the identity provider's keys. `now` is checked by the
/// library's clock; API Gateway allows no clock skew, and neither does this.
pub fn verify(token: &str, keys: &JwkSet, expected: &Expected) -> Result<Claims, TokenError> {
    let header = decode_header(token).map_err(|e| TokenError::Malformed(e.to_string()))?;
    let jwk = key_for(keys, header.kid.as_deref())?;
    let algorithm = algorithm_of(jwk).ok_or(TokenError::Algorithm)?;
    if header.alg != algorithm {
        return Err(TokenError::Algorithm);
    }
    let key = DecodingKey::from_jwk(jwk).map_err(|_| TokenError::UnknownKey)?;
    let mut validation = Validation::new(algorithm);
    validation.leeway = 0;
    validation.validate_nbf = true;
    validation.set_issuer(&[&expected.issuer]);
    // `aud` or `client_id` is checked below, as API Gateway does.
    validation.validate_aud = false;
    validation.set_required_spec_claims(&["exp", "iss", "sub"]);
    let claims = decode::<Claims>(token, &key, &validation).map_err(|e| TokenError::Rejected(e.to_string()))?.claims;
    let audience_ok = match &claims.aud {
        Some(Audience::One(a)) => a == &expected.audience,
        Some(Audience::Many(all)) => all.iter().any(|a| a == &expected.audience),
        None => claims.client_id.as_deref() == Some(expected.audience.as_str()),
    };
    if !audience_ok {
        return Err(TokenError::Audience);
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{MqttData, ProtocolData};
    use jsonwebtoken::{encode, EncodingKey, Header};
    use serde_json::json;

    const SECRET: &str = "s3cret-of-the-identity-provider";

    fn keys(secret: &str, kid: Option<&str>) -> JwkSet {
        let k = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret);
        let mut jwk = json!({"kty": "oct", "k": k, "alg": "HS256", "use": "sig"});
        if let Some(kid) = kid {
            jwk["kid"] = json!(kid);
        }
        serde_json::from_value(json!({"keys": [jwk]})).unwrap()
    }

    fn expected() -> Expected {
        Expected { issuer: "https://issuer/".into(), audience: "workflows-api".into() }
    }

    fn token(claims: serde_json::Value, secret: &str) -> String {
        encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
    }

    fn claims(ttl: i64) -> serde_json::Value {
        let now = chrono::Utc::now().timestamp();
        json!({"sub": "user-1", "iss": "https://issuer/", "aud": "workflows-api", "iat": now - 5, "exp": now + ttl})
    }

    fn event(password: Option<&str>) -> AuthorizerEvent {
        AuthorizerEvent {
            protocol_data: ProtocolData {
                mqtt: Some(MqttData {
                    password: password.map(|p| base64::engine::general_purpose::STANDARD.encode(p)),
                }),
            },
            ..AuthorizerEvent::default()
        }
    }

    #[test]
    fn the_password_is_the_base64_decoded_token() {
        assert_eq!(password_token(&event(Some("abc.def.ghi"))).unwrap(), "abc.def.ghi");
        assert_eq!(password_token(&event(Some("Bearer abc.def.ghi"))).unwrap(), "abc.def.ghi");
        assert_eq!(password_token(&event(None)), Err(TokenError::Missing));
        assert_eq!(password_token(&event(Some("  "))), Err(TokenError::Missing));
        let mut garbled = event(None);
        garbled.protocol_data.mqtt.as_mut().unwrap().password = Some("%%%".into());
        assert_eq!(password_token(&garbled), Err(TokenError::Encoding));
    }

    #[test]
    fn a_valid_token_yields_its_subject() {
        let c = verify(&token(claims(600), SECRET), &keys(SECRET, None), &expected()).unwrap();
        assert_eq!(c.sub, "user-1");
        let mut by_kid = Header::new(Algorithm::HS256);
        by_kid.kid = Some("k1".into());
        let t = encode(&by_kid, &claims(600), &EncodingKey::from_secret(SECRET.as_bytes())).unwrap();
        assert_eq!(key_id(&t).unwrap().as_deref(), Some("k1"));
        assert!(verify(&t, &keys(SECRET, Some("k1")), &expected()).is_ok());
        assert_eq!(verify(&t, &keys(SECRET, Some("k2")), &expected()), Err(TokenError::UnknownKey));
    }

    #[test]
    fn expired_forged_and_foreign_tokens_are_refused() {
        let k = keys(SECRET, None);
        assert!(matches!(verify(&token(claims(-1), SECRET), &k, &expected()), Err(TokenError::Rejected(_))));
        assert!(matches!(verify(&token(claims(600), "forger"), &k, &expected()), Err(TokenError::Rejected(_))));
        let mut other = claims(600);
        other["aud"] = json!("someone-else");
        assert_eq!(verify(&token(other, SECRET), &k, &expected()), Err(TokenError::Audience));
        let mut issuer = claims(600);
        issuer["iss"] = json!("https://elsewhere/");
        assert!(matches!(verify(&token(issuer, SECRET), &k, &expected()), Err(TokenError::Rejected(_))));
        let mut no_sub = claims(600);
        no_sub.as_object_mut().unwrap().remove("sub");
        assert!(verify(&token(no_sub, SECRET), &k, &expected()).is_err());
        assert!(matches!(verify("not.a.jwt", &k, &expected()), Err(TokenError::Malformed(_))));
    }

    #[test]
    fn cognito_access_tokens_match_by_client_id_as_api_gateway_does() {
        let k = keys(SECRET, None);
        let mut access = claims(600);
        access.as_object_mut().unwrap().remove("aud");
        access["client_id"] = json!("workflows-api");
        assert!(verify(&token(access.clone(), SECRET), &k, &expected()).is_ok());
        access["client_id"] = json!("another-app");
        assert_eq!(verify(&token(access, SECRET), &k, &expected()), Err(TokenError::Audience));
        let mut listed = claims(600);
        listed["aud"] = json!(["other", "workflows-api"]);
        assert!(verify(&token(listed, SECRET), &k, &expected()).is_ok());
    }

    #[test]
    fn a_token_cannot_choose_its_algorithm() {
        let k = keys(SECRET, None);
        let t =
            encode(&Header::new(Algorithm::HS384), &claims(600), &EncodingKey::from_secret(SECRET.as_bytes())).unwrap();
        assert_eq!(verify(&t, &k, &expected()), Err(TokenError::Algorithm));
        // An unsigned token ("alg": "none") is not even a JWT to the library.
        let none = format!(
            "{}.{}.",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims(600).to_string())
        );
        assert!(verify(&none, &k, &expected()).is_err());
    }
}
