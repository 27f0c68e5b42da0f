//! Who is calling, with which roles. In AWS the HTTP API's JWT authorizer (Cognito)
//! has verified the token and hands its claims over in the request context; locally
//! the dev server does the same with HS256 tokens. Only those claims are trusted,
//! never a header. Roles: the `roles` claim and Cognito's `cognito:groups`, each name
//! matched exactly (`audit::Caller::from_claims`, which reads them with `kit::claims`).

use audit::Caller;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use lambda_http::request::RequestContext;

use crate::error::ApiError;

pub fn caller_from(context: Option<&RequestContext>) -> Option<Caller> {
    let RequestContext::ApiGatewayV2(ctx) = context? else {
        return None;
    };
    Caller::from_claims(&ctx.authorizer.as_ref()?.jwt.as_ref()?.claims)
}

/// The authenticated caller, as an axum extractor.
pub struct Authenticated(pub Caller);

impl<S: Send + Sync> FromRequestParts<S> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        caller_from(parts.extensions.get::<RequestContext>()).map(Authenticated).ok_or(ApiError::Unauthenticated)
    }
}

/// API Gateway's request id: the correlation id of everything this request causes.
pub fn request_id(context: Option<&RequestContext>) -> Option<String> {
    match context? {
        RequestContext::ApiGatewayV2(ctx) => ctx.request_id.clone().filter(|id| !id.is_empty()),
        _ => None,
    }
}
