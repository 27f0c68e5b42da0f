//! Who is calling the service routes. These routes use `AWS_IAM`: API Gateway
//! (in AWS, or the local stack's) has checked the SigV4 signature and the
//! caller's `execute-api:Invoke` permission, and hands over the IAM identity in
//! the request context. This function trusts only that context, never a header,
//! and then admits only the principals configured for each route (`callers`).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use lambda_http::request::RequestContext;

use crate::error::ApiError;

/// The on-prem service (or processor), as IAM names it: `userArn`, e.g.
/// `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub principal: String,
}

pub fn service_from(context: Option<&RequestContext>) -> Option<Service> {
    let RequestContext::ApiGatewayV2(ctx) = context? else {
        return None;
    };
    let iam = ctx.authorizer.as_ref()?.iam.as_ref()?;
    let principal = iam.user_arn.clone().or_else(|| iam.caller_id.clone())?.trim().to_owned();
    (!principal.is_empty()).then_some(Service { principal })
}

impl<S: Send + Sync> FromRequestParts<S> for Service {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        service_from(parts.extensions.get::<RequestContext>()).ok_or(ApiError::Forbidden)
    }
}

/// API Gateway's request id: the correlation id of everything this request starts.
#[derive(Debug, Clone)]
pub struct Correlation(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Correlation {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Correlation(correlation_id(parts.extensions.get::<RequestContext>())))
    }
}

pub fn correlation_id(context: Option<&RequestContext>) -> String {
    match context {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.request_id.clone().unwrap_or_default(),
        _ => String::new(),
    }
}
