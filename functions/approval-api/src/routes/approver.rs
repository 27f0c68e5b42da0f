//! The approvers' routes (no authoriser: the link's token is the credential).

use std::collections::HashMap;
use std::sync::Arc;

use approvals::usecases::{self, DecideAnswer, LinkAnswer, LinkRequest};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use kit::clock::Clock;
use kit::error::chain;
use kit::publisher::EventPublisher;
use tracing::{error, info};

use super::{App, Store};
use crate::auth::Correlation;
use crate::pages;

/// `GET /approvals/{request_id}?token=…&action=…`: a confirmation page. Reads only,
/// so a mail scanner fetching the link decides nothing.
pub async fn open<S: Store, P: EventPublisher, C: Clock>(
    State(app): State<Arc<App<S, P, C>>>,
    Path(raw_id): Path<String>,
    Query(fields): Query<HashMap<String, String>>,
) -> Response {
    let link = match LinkRequest::parse(&raw_id, &fields) {
        Ok(l) => l,
        Err(why) => return pages::malformed(&why.to_string()),
    };
    match usecases::inspect_link(&app.store, &link, app.clock.now()).await {
        Ok(LinkAnswer::Confirm(req)) => pages::confirm(&req, &link.token.expose(), link.decision),
        Ok(LinkAnswer::Refused(refusal)) => {
            info!(request_id = %link.request_id, refusal = refusal_kind(&refusal), "link refused");
            pages::refused(&refusal)
        }
        Err(e) => {
            error!(request_id = %link.request_id, error = %chain(&e), "could not read the request");
            pages::unavailable()
        }
    }
}

/// `POST /approvals/{request_id}` (form: token, action): decides, first one wins.
pub async fn answer<S: Store, P: EventPublisher, C: Clock>(
    State(app): State<Arc<App<S, P, C>>>,
    Correlation(correlation_id): Correlation,
    Path(raw_id): Path<String>,
    body: Bytes,
) -> Response {
    let link = match LinkRequest::from_form(&raw_id, &body) {
        Ok(l) => l,
        Err(why) => return pages::malformed(&why.to_string()),
    };
    let now = app.clock.now();
    match usecases::decide(&app.store, &app.decided, &link, &correlation_id, now, app.outbox_delay).await {
        Ok(DecideAnswer::Decided { request, decision, decided_at }) => pages::decided(&request, decision, decided_at),
        Ok(DecideAnswer::Refused(refusal)) => {
            info!(request_id = %link.request_id, refusal = refusal_kind(&refusal), "decision refused");
            pages::refused(&refusal)
        }
        Err(e) => {
            error!(request_id = %link.request_id, error = %chain(&e), "could not decide");
            pages::unavailable()
        }
    }
}

/// A refusal for the logs: its kind only (a `Decided` may name the decider).
fn refusal_kind(r: &usecases::Refusal) -> &'static str {
    use usecases::Refusal::*;
    match r {
        UnknownToken => "unknown_token",
        Gone => "gone",
        Expired => "expired",
        Revoked => "revoked",
        Decided { .. } => "already_decided",
        Conflict => "conflict",
    }
}
