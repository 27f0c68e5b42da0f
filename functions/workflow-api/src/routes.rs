//! Routes:
//! `POST /workflows`, `GET /workflows/{workflow_id}`, `POST /workflows/{workflow_id}/actions`,
//! `GET /audit`, `GET /audit/verify`, `GET /users/{user_id}/notifications`,
//! `POST /users/{user_id}/notifications/{notification_id}/read`.

mod audit_trail;
mod notifications;
mod views;
mod workflows;

use std::sync::Arc;

use ::audit::ports::{AuditReader, NotificationReader, TrustedKeySource, WorkflowStore};
use ::audit::usecases::RequestContext;
use ::audit::InvalidInput;
use axum::body::Bytes;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use kit::clock::Clock;
use kit::publisher::EventPublisher;
use lambda_http::request::RequestContext as LambdaContext;
use serde::de::DeserializeOwned;
use tracing::Instrument;

use crate::auth::request_id;

/// What the routes work with. The stores are trait objects (an API request is not
/// a hot loop); the publisher is generic (its `publish` is).
pub struct App<P> {
    pub workflows: Arc<dyn WorkflowStore>,
    pub publisher: P,
    pub audit: Arc<dyn AuditReader>,
    /// The trail's public key (verification only: this API cannot sign).
    pub trail_key: Arc<dyn TrustedKeySource>,
    pub notifications: Arc<dyn NotificationReader>,
    pub clock: Arc<dyn Clock>,
}

impl<P> App<P> {
    fn context(&self, correlation_id: String) -> RequestContext {
        RequestContext { now: self.clock.now(), correlation_id }
    }
}

type Shared<P> = Arc<App<P>>;

pub fn router<P: EventPublisher>(app: App<P>) -> Router {
    Router::new()
        .route("/workflows", post(workflows::create::<P>))
        .route("/workflows/{workflow_id}", get(workflows::get::<P>))
        .route("/workflows/{workflow_id}/actions", post(workflows::act::<P>))
        .route("/audit", get(audit_trail::search::<P>))
        .route("/audit/verify", get(audit_trail::verify::<P>))
        .route("/users/{user_id}/notifications", get(notifications::list::<P>))
        .route("/users/{user_id}/notifications/{notification_id}/read", post(notifications::read::<P>))
        .with_state(Arc::new(app))
        .layer(axum::middleware::from_fn(in_request_span))
        // One EMF document per invocation, as for the SQS steps.
        .layer(axum::middleware::map_response(flush_metrics))
}

/// Every line a request logs carries its correlation id (API Gateway's request id,
/// which also goes into the events it publishes).
async fn in_request_span(request: Request, next: Next) -> Response {
    let correlation_id = request_id(request.extensions().get::<LambdaContext>()).unwrap_or_default();
    let span = tracing::error_span!("request", correlation_id = %correlation_id, method = %request.method());
    let response = next.run(request).instrument(span.clone()).await;
    span.in_scope(|| tracing::info!(status = response.status().as_u16(), "request handled"));
    response
}

async fn flush_metrics(response: Response) -> Response {
    kit::metrics::flush();
    response
}

/// The request's correlation id, for the events it causes.
pub(crate) struct Correlation(pub String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Correlation {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        let id = request_id(parts.extensions.get::<LambdaContext>())
            .unwrap_or_else(|| format!("local-{}", chrono::Utc::now().timestamp_micros()));
        Ok(Correlation(id))
    }
}

/// A JSON body; parse errors never quote the input. Handlers report these only
/// after the caller is authorised.
fn json_body<T: DeserializeOwned>(body: &Bytes) -> Result<T, InvalidInput> {
    ::audit::request::json_body(body)
}

#[cfg(test)]
mod tests;
