//! The Zendesk fake: the Tickets API (`/api/v2/tickets.json`), API-token
//! Basic auth, and Zendesk's `Idempotency-Key` (same key and body: the
//! original answer, no new ticket; same key, other body: an error).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine as _;
use serde_json::{json, Map, Value};

use super::faults::{self, Faults};
use super::{base_url, now_timestamp, LOCAL_ZENDESK_TOKEN};

const FIRST_TICKET_ID: u64 = 1000;
/// Users (requesters and the agent) get ids from here on.
const FIRST_USER_ID: u64 = 360_000_000;
/// How long Zendesk remembers an idempotency key.
const IDEMPOTENCY_TTL: Duration = Duration::from_secs(2 * 60 * 60);

/// What one idempotency key was first used for.
struct Remembered {
    request: Value,
    ticket: Value,
    at: Instant,
}

/// The help desk: tickets, the users they name, and idempotency keys.
#[derive(Default)]
struct Desk {
    tickets: BTreeMap<u64, Value>,
    users: BTreeMap<String, u64>,
    keys: HashMap<String, Remembered>,
}

type Shared = Arc<Mutex<Desk>>;

/// The API routes (faults applied) and `/__faults`.
pub fn router() -> Router {
    let desk = Shared::default();
    let faults = Faults::new(error_for_status);
    Router::new()
        .route("/api/v2/tickets.json", get(list).post(create))
        .route("/api/v2/tickets", get(list).post(create))
        .route("/api/v2/tickets/{ticket}", get(show))
        .with_state(desk)
        .layer(from_fn_with_state(faults.clone(), faults::inject))
        .merge(faults::admin_router(faults))
        .fallback(|| async { error(StatusCode::NOT_FOUND, "InvalidEndpoint", "Not found") })
}

impl Desk {
    fn user_id(&mut self, email: &str) -> u64 {
        let next = FIRST_USER_ID + self.users.len() as u64;
        *self.users.entry(email.to_ascii_lowercase()).or_insert(next)
    }

    fn next_ticket_id(&self) -> u64 {
        self.tickets.keys().next_back().map_or(FIRST_TICKET_ID, |last| last + 1)
    }

    fn forget_expired(&mut self, now: Instant) {
        self.keys.retain(|_, r| now.duration_since(r.at) < IDEMPOTENCY_TTL);
    }

    fn create(&mut self, new: NewTicket, agent: &str, base: &str) -> Value {
        let id = self.next_ticket_id();
        let requester_id = self.user_id(new.requester_email.as_deref().unwrap_or(agent));
        let now = now_timestamp();
        let ticket = json!({
            "id": id,
            "url": format!("{base}/api/v2/tickets/{id}.json"),
            "external_id": new.external_id,
            "subject": new.subject,
            "raw_subject": new.subject,
            "description": new.body,
            "status": "new",
            "priority": null,
            "type": null,
            "tags": new.tags,
            "requester_id": requester_id,
            "submitter_id": self.user_id(agent),
            "created_at": now,
            "updated_at": now,
        });
        self.tickets.insert(id, ticket.clone());
        ticket
    }
}

/// The fields of a create request the fake keeps.
struct NewTicket {
    subject: Option<String>,
    body: String,
    external_id: Option<String>,
    requester_email: Option<String>,
    tags: Vec<String>,
}

impl NewTicket {
    /// The ticket, or Zendesk's validation `details` (field → errors).
    fn parse(request: &Value) -> Result<Self, Map<String, Value>> {
        let mut details = Map::new();
        let mut problem = |field: &str, kind: &str, text: &str| {
            details.insert(field.to_owned(), json!([{ "description": text, "error": kind }]));
        };
        let Some(ticket) = request.get("ticket").and_then(Value::as_object) else {
            problem("base", "InvalidValue", "Ticket is missing");
            return Err(details);
        };
        let body = ticket
            .get("comment")
            .and_then(|c| c.get("body").or_else(|| c.get("html_body")))
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|b| !b.is_empty());
        if body.is_none() {
            problem("description", "BlankValue", "Description: cannot be blank");
        }
        let text = |field: &str| ticket.get(field).filter(|v| !v.is_null());
        let subject = text("subject");
        if subject.is_some_and(|s| !s.is_string()) {
            problem("subject", "InvalidValue", "Subject: is invalid");
        }
        let external_id = text("external_id");
        if external_id.is_some_and(|s| !s.is_string()) {
            problem("external_id", "InvalidValue", "External id: is invalid");
        }
        let requester_email = match text("requester") {
            None => None,
            Some(r) => match r.get("email").and_then(Value::as_str).filter(|e| e.contains('@')) {
                Some(email) => Some(email.to_owned()),
                None => {
                    problem("requester", "InvalidValue", "Requester: Email is invalid");
                    None
                }
            },
        };
        let tags = match text("tags") {
            None => Vec::new(),
            Some(Value::Array(items)) if items.iter().all(Value::is_string) => {
                items.iter().filter_map(Value::as_str).map(str::to_owned).collect()
            }
            Some(_) => {
                problem("tags", "InvalidValue", "Tags: must be a list of strings");
                Vec::new()
            }
        };
        match body {
            Some(body) if details.is_empty() => Ok(Self {
                subject: subject.and_then(Value::as_str).map(str::to_owned),
                body: body.to_owned(),
                external_id: external_id.and_then(Value::as_str).map(str::to_owned),
                requester_email,
                tags,
            }),
            _ => Err(details),
        }
    }
}

/// Zendesk's answer to missing or wrong credentials.
struct Unauthenticated;

impl IntoResponse for Unauthenticated {
    fn into_response(self) -> Response {
        (StatusCode::UNAUTHORIZED, Json(json!({ "error": "Couldn't authenticate you" }))).into_response()
    }
}

/// The agent's email if the request carries `{email}/token:{LOCAL_ZENDESK_TOKEN}`.
fn authenticate(headers: &HeaderMap) -> Result<String, Unauthenticated> {
    let encoded = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic ").or_else(|| v.strip_prefix("basic ")))
        .ok_or(Unauthenticated)?;
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).map_err(|_| Unauthenticated)?;
    let text = String::from_utf8(decoded).map_err(|_| Unauthenticated)?;
    let (user, token) = text.split_once(':').ok_or(Unauthenticated)?;
    let email = user.strip_suffix("/token").filter(|e| !e.is_empty()).ok_or(Unauthenticated)?;
    if token != LOCAL_ZENDESK_TOKEN {
        return Err(Unauthenticated);
    }
    Ok(email.to_owned())
}

fn lock(desk: &Shared) -> std::sync::MutexGuard<'_, Desk> {
    desk.lock().unwrap_or_else(PoisonError::into_inner)
}

async fn create(State(desk): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let agent = match authenticate(&headers) {
        Ok(a) => a,
        Err(refused) => return refused.into_response(),
    };
    let request: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return error(StatusCode::BAD_REQUEST, "InvalidJSON", &format!("Malformed JSON: {e}")),
    };
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).filter(|k| !k.is_empty());
    let base = base_url(&headers);
    // One lock from lookup to insert: two requests with one key make one ticket.
    let mut desk = lock(&desk);
    if let Some(key) = key {
        desk.forget_expired(Instant::now());
        if let Some(seen) = desk.keys.get(key) {
            if seen.request != request {
                return error(
                    StatusCode::BAD_REQUEST,
                    "IdempotentRequestError",
                    "Request parameters do not match the original request",
                );
            }
            return created(&seen.ticket, Some("hit"));
        }
    }
    let new = match NewTicket::parse(&request) {
        Ok(t) => t,
        Err(details) => {
            let body = json!({"error": "RecordInvalid", "description": "Record validation errors", "details": details});
            return (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response();
        }
    };
    let ticket = desk.create(new, &agent, &base);
    if let Some(key) = key {
        desk.keys.insert(key.to_owned(), Remembered { request, ticket: ticket.clone(), at: Instant::now() });
    }
    created(&ticket, key.map(|_| "miss"))
}

fn created(ticket: &Value, lookup: Option<&'static str>) -> Response {
    let mut response = (StatusCode::CREATED, Json(json!({ "ticket": ticket }))).into_response();
    let headers = response.headers_mut();
    if let Some(location) = ticket.get("url").and_then(Value::as_str).and_then(|u| HeaderValue::from_str(u).ok()) {
        headers.insert("location", location);
    }
    if let Some(lookup) = lookup {
        headers.insert("x-idempotency-lookup", HeaderValue::from_static(lookup));
    }
    response
}

async fn list(
    State(desk): State<Shared>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Err(refused) = authenticate(&headers) {
        return refused.into_response();
    }
    let desk = lock(&desk);
    let tickets: Vec<&Value> = desk
        .tickets
        .values()
        .filter(|t| query.get("external_id").is_none_or(|want| t["external_id"].as_str() == Some(want.as_str())))
        .collect();
    Json(json!({ "tickets": tickets, "count": tickets.len(), "next_page": null, "previous_page": null }))
        .into_response()
}

async fn show(State(desk): State<Shared>, headers: HeaderMap, Path(ticket): Path<String>) -> Response {
    if let Err(refused) = authenticate(&headers) {
        return refused.into_response();
    }
    let id = ticket.strip_suffix(".json").unwrap_or(&ticket).parse::<u64>().ok();
    match id.and_then(|id| lock(&desk).tickets.get(&id).cloned()) {
        Some(ticket) => Json(json!({ "ticket": ticket })).into_response(),
        None => error(StatusCode::NOT_FOUND, "RecordNotFound", "Not found"),
    }
}

fn error(status: StatusCode, error: &str, description: &str) -> Response {
    (status, Json(json!({ "error": error, "description": description }))).into_response()
}

/// Zendesk's body for each status a fault forces.
fn error_for_status(status: StatusCode) -> Response {
    match status.as_u16() {
        401 => Unauthenticated.into_response(),
        403 => error(
            status,
            "Forbidden",
            "You do not have access to this page. Please contact the account owner of this help desk for further help.",
        ),
        404 => error(status, "RecordNotFound", "Not found"),
        409 => error(status, "Conflict", "The request conflicts with a concurrent change; try again"),
        422 => {
            let body = json!({
                "error": "RecordInvalid",
                "description": "Record validation errors",
                "details": { "base": [{ "description": "Injected fault", "error": "InvalidValue" }] },
            });
            (status, Json(body)).into_response()
        }
        429 => error(status, "APIRateLimitExceeded", "Number of allowed API requests per minute exceeded"),
        503 => error(status, "ServiceUnavailable", "Zendesk is temporarily unavailable"),
        500..=599 => error(status, "InternalServerError", "Something went wrong on our side"),
        _ => error(status, status.canonical_reason().unwrap_or("Error"), "Injected fault"),
    }
}
