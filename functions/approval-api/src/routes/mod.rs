//! Routes. For the on-prem service (IAM-authorised, JSON):
//! `POST /approval-requests`, `GET /approval-requests/{request_id}`,
//! `POST /approval-requests/{request_id}/execution`. For approvers (no
//! authorisation: the token in the link is the credential, HTML):
//! `GET /approvals/{request_id}?token=…&action=approve|reject` (a confirmation
//! page; changes nothing) and `POST /approvals/{request_id}` (decides).

mod approver;
mod service;

use std::sync::Arc;

use approvals::ports::{DecisionStore, ExecutionStore, RequestStore};
use axum::extract::{MatchedPath, Request};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use kit::clock::Clock;
use kit::publisher::EventPublisher;
use tracing::Instrument;

/// Everything the handlers share.
pub struct App<S, P, C> {
    pub store: S,
    /// Where `approval.requested` goes.
    pub requested: P,
    /// Where `approval.decided` goes.
    pub decided: P,
    pub clock: C,
    pub outbox_delay: chrono::Duration,
    /// Who may call which IAM route.
    pub callers: crate::callers::Callers,
}

/// The store capabilities the API uses.
pub trait Store: RequestStore + DecisionStore + ExecutionStore {}
impl<T: RequestStore + DecisionStore + ExecutionStore> Store for T {}

pub fn router<S: Store, P: EventPublisher, C: Clock + 'static>(app: App<S, P, C>) -> Router {
    Router::new()
        .route("/approval-requests", post(service::create::<S, P, C>))
        .route("/approval-requests/{request_id}", get(service::show::<S, P, C>))
        .route("/approval-requests/{request_id}/execution", post(service::execution::<S, P, C>))
        .route("/approvals/{request_id}", get(approver::open::<S, P, C>).post(approver::answer::<S, P, C>))
        .with_state(Arc::new(app))
        .layer(middleware::from_fn(in_span))
}

/// Every line a request logs carries its correlation id and the route template —
/// never the path or query, which hold request ids and tokens.
async fn in_span(request: Request, next: Next) -> Response {
    let correlation_id =
        crate::auth::correlation_id(request.extensions().get::<lambda_http::request::RequestContext>());
    let route = request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned()).unwrap_or_default();
    let span =
        tracing::error_span!("request", correlation_id = %correlation_id, route = %route, method = %request.method());
    let response = next.run(request).instrument(span).await;
    // One EMF document per invocation, as for the SQS steps.
    kit::metrics::flush();
    response
}

#[cfg(test)]
mod tests;
