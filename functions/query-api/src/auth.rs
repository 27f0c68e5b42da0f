//! Who is calling. In AWS the HTTP API's JWT authorizer has verified the token and
//! hands over its claims in the request context; locally the dev server does the
//! same with HS256 tokens. This function trusts only those claims, never a header.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use lambda_http::request::RequestContext;

use crate::error::ApiError;

/// The authenticated caller's subject (`sub` claim).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub sub: String,
}

impl Caller {
    /// A caller may read only their own records.
    pub fn ensure_is(&self, user_id: &str) -> Result<(), ApiError> {
        if self.sub == user_id {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }
}

pub fn caller_from(context: Option<&RequestContext>) -> Option<Caller> {
    let RequestContext::ApiGatewayV2(ctx) = context? else {
        return None;
    };
    // Exactly as signed: `ensure_is` compares it with the path's user id, so a trimmed
    // ` 123` would read user `123`'s records.
    let sub = ctx.authorizer.as_ref()?.jwt.as_ref()?.claims.get("sub")?;
    (!sub.is_empty()).then(|| Caller { sub: sub.clone() })
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        caller_from(parts.extensions.get::<RequestContext>()).ok_or(ApiError::Unauthenticated)
    }
}
