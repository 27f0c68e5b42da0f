//! Who may call: a verified token (API Gateway's JWT authorizer checked it and
//! hands over its claims) whose role claim names the operations role. Only those
//! claims are trusted, never a header.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use lambda_http::request::RequestContext;

use crate::error::ApiError;
use crate::routes::AppState;

pub use contacts::access::OpsRole;

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
