//! GOV.UK Notify's API authentication: a bearer JWT, HS256-signed with the
//! API key's secret, `iss` the service id, `iat` within 30 seconds of the
//! server's clock either way, and no `exp`. The checks run in Notify's order
//! and fail with Notify's messages.

use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

use crate::fakes::{LOCAL_NOTIFY_SECRET, LOCAL_NOTIFY_SERVICE_ID};

/// Notify's allowed clock difference.
const MAX_SKEW_SECS: i64 = 30;

/// Why a request was refused: 401 without a token, 403 with a bad one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("Unauthorized: authentication token must be provided")]
    NoToken,
    #[error("Unauthorized: authentication bearer scheme must be used")]
    NotBearer,
    #[error("Invalid token: iss field not provided")]
    NoIssuer,
    #[error("Invalid token: service not found")]
    UnknownService,
    #[error("Invalid token: algorithm used is not HS256")]
    Algorithm,
    #[error("Invalid token: signature, api token not found")]
    Signature,
    #[error("Invalid token: iat field not provided")]
    NoIssuedAt,
    #[error("Error: Your system clock must be accurate to within 30 seconds")]
    Clock,
}

impl AuthError {
    pub fn status(&self) -> u16 {
        match self {
            Self::NoToken | Self::NotBearer => 401,
            _ => 403,
        }
    }
}

/// Checks an `Authorization` header value at `now` (epoch seconds).
pub fn authorise(authorization: Option<&str>, now: i64) -> Result<(), AuthError> {
    let value = authorization.map(str::trim).filter(|v| !v.is_empty()).ok_or(AuthError::NoToken)?;
    let token = value.strip_prefix("Bearer ").map(str::trim).ok_or(AuthError::NotBearer)?;
    // The issuer is read before the signature is checked: it names the
    // service whose keys to try.
    let unverified: Map<String, Value> =
        jsonwebtoken::dangerous::insecure_decode_claims(token).map_err(|_| AuthError::Signature)?;
    let issuer = unverified.get("iss").and_then(Value::as_str).ok_or(AuthError::NoIssuer)?;
    if issuer != LOCAL_NOTIFY_SERVICE_ID {
        return Err(AuthError::UnknownService);
    }
    let header = decode_header(token).map_err(|_| AuthError::Signature)?;
    if header.alg != Algorithm::HS256 {
        return Err(AuthError::Algorithm);
    }
    let mut validation = Validation::new(Algorithm::HS256);
    // Notify tokens carry no `exp`; freshness is the `iat` check below.
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let claims =
        decode::<Map<String, Value>>(token, &DecodingKey::from_secret(LOCAL_NOTIFY_SECRET.as_bytes()), &validation)
            .map_err(|_| AuthError::Signature)?
            .claims;
    let issued_at = claims.get("iat").and_then(Value::as_i64).ok_or(AuthError::NoIssuedAt)?;
    if (now - issued_at).abs() > MAX_SKEW_SECS {
        return Err(AuthError::Clock);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{encode, EncodingKey, Header};
    use serde_json::json;

    const NOW: i64 = 1_700_000_000;

    fn token(claims: Value, secret: &str) -> String {
        let signed = encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(secret.as_bytes()));
        format!("Bearer {}", signed.expect("token"))
    }

    fn valid(iat: i64) -> String {
        token(json!({"iss": LOCAL_NOTIFY_SERVICE_ID, "iat": iat}), LOCAL_NOTIFY_SECRET)
    }

    #[test]
    fn accepts_a_fresh_token_without_exp() {
        assert_eq!(authorise(Some(&valid(NOW)), NOW), Ok(()));
        assert_eq!(authorise(Some(&valid(NOW - 30)), NOW), Ok(()));
        assert_eq!(authorise(Some(&valid(NOW + 30)), NOW), Ok(()));
    }

    #[test]
    fn refuses_clock_skew_either_way() {
        assert_eq!(authorise(Some(&valid(NOW - 31)), NOW), Err(AuthError::Clock));
        assert_eq!(authorise(Some(&valid(NOW + 31)), NOW), Err(AuthError::Clock));
    }

    #[test]
    fn refuses_missing_or_wrong_issuer_wrong_secret_and_missing_iat() {
        let no_iss = token(json!({"iat": NOW}), LOCAL_NOTIFY_SECRET);
        assert_eq!(authorise(Some(&no_iss), NOW), Err(AuthError::NoIssuer));
        let other = token(json!({"iss": uuid::Uuid::new_v4().to_string(), "iat": NOW}), LOCAL_NOTIFY_SECRET);
        assert_eq!(authorise(Some(&other), NOW), Err(AuthError::UnknownService));
        let forged = token(json!({"iss": LOCAL_NOTIFY_SERVICE_ID, "iat": NOW}), "not-the-secret");
        assert_eq!(authorise(Some(&forged), NOW), Err(AuthError::Signature));
        let no_iat = token(json!({"iss": LOCAL_NOTIFY_SERVICE_ID}), LOCAL_NOTIFY_SECRET);
        assert_eq!(authorise(Some(&no_iat), NOW), Err(AuthError::NoIssuedAt));
        assert_eq!(authorise(Some("Bearer not-a-jwt"), NOW), Err(AuthError::Signature));
    }

    #[test]
    fn missing_token_and_other_schemes_are_401() {
        assert_eq!(authorise(None, NOW), Err(AuthError::NoToken));
        assert_eq!(authorise(Some("Basic abc"), NOW).map_err(|e| e.status()), Err(401));
        assert_eq!(AuthError::Clock.status(), 403);
    }
}
