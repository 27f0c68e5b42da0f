//! Who may call: a verified token (API Gateway's JWT authorizer checked it and
//! hands over its claims) whose role claim names the operations role. Only those
//! claims are trusted, never a header.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use lambda_http::request::RequestContext;

use crate::error::ApiError;
use crate::routes::AppState;

/// The claim that carries roles, and the role this API requires.
#[derive(Debug, Clone)]
pub struct OpsRole {
    pub claim: String,
    pub role: String,
}

impl OpsRole {
    /// API Gateway passes claims as strings; a list claim arrives as `[ops admin]`.
    /// Plain, comma- or space-separated and JSON-array forms are all read.
    pub fn granted_by(&self, value: &str) -> bool {
        value
            .split(|c: char| c == ',' || c.is_whitespace() || c == '[' || c == ']')
            .map(|r| r.trim_matches('"'))
            .any(|r| r == self.role)
    }
}

/// An authenticated member of the operations team (the token's `sub`, for logs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    pub sub: String,
}

pub fn operator_from(context: Option<&RequestContext>, ops: &OpsRole) -> Result<Operator, ApiError> {
    let Some(RequestContext::ApiGatewayV2(ctx)) = context else {
        return Err(ApiError::Unauthenticated);
    };
    let claims = &ctx.authorizer.as_ref().and_then(|a| a.jwt.as_ref()).ok_or(ApiError::Unauthenticated)?.claims;
    let sub = claims.get("sub").map(|s| s.trim()).filter(|s| !s.is_empty()).ok_or(ApiError::Unauthenticated)?;
    if claims.get(&ops.claim).is_some_and(|v| ops.granted_by(v)) {
        Ok(Operator { sub: sub.to_owned() })
    } else {
        Err(ApiError::Forbidden)
    }
}

impl<R: Send + Sync + 'static> FromRequestParts<Arc<AppState<R>>> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState<R>>) -> Result<Self, Self::Rejection> {
        operator_from(parts.extensions.get::<RequestContext>(), &state.ops)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_forms_a_role_claim_arrives_in() {
        let ops = OpsRole { claim: "roles".into(), role: "ops".into() };
        for granted in ["ops", "[ops]", "[admin ops]", "admin,ops", r#"["admin","ops"]"#] {
            assert!(ops.granted_by(granted), "{granted}");
        }
        for refused in ["", "[]", "operations", "devops", "[admin]"] {
            assert!(!ops.granted_by(refused), "{refused}");
        }
    }
}
