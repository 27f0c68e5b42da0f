//! The approver's pages: plain HTML, no scripts, no third-party resources, never
//! cached, never framed, and no Referer leaving with the token in it.

use approvals::email::escape_html;
use approvals::state::{ApprovalRequest, Decision};
use approvals::usecases::Refusal;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};

const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'";

fn page(status: StatusCode, title: &str, body_html: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{t}</title>\
         <style>body{{font-family:sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}}\
         button{{font-size:1.1rem;padding:.5rem 1.5rem}}pre{{background:#f4f4f4;padding:.5rem}}</style></head>\
         <body><h1>{t}</h1>{body_html}</body></html>",
        t = escape_html(title),
    );
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
        (header::CACHE_CONTROL, "no-store"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::CONTENT_SECURITY_POLICY, CSP),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

fn when(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn summary(req: &ApprovalRequest) -> String {
    let params = serde_json::to_string_pretty(&req.action_parameters).unwrap_or_default();
    format!(
        "<p>Issue <b>{}</b>: run <b>{}</b> with</p><pre>{}</pre>",
        escape_html(&req.issue_id),
        escape_html(&req.action),
        escape_html(&params)
    )
}

/// Opening a link: what will happen, and one button that does it (a POST).
pub fn confirm(req: &ApprovalRequest, token_text: &str, decision: Decision) -> Response {
    let verb = decision.link_word();
    let body = format!(
        "{summary}<p>Valid until {until}. The first answer from any approver decides.</p>\
         <form method=\"post\" action=\"{id}\">\
         <input type=\"hidden\" name=\"token\" value=\"{token}\">\
         <input type=\"hidden\" name=\"action\" value=\"{verb}\">\
         <button type=\"submit\">Confirm: {verb}</button></form>",
        summary = summary(req),
        until = when(req.expires_at),
        id = escape_html(&req.request_id),
        token = escape_html(token_text),
    );
    page(StatusCode::OK, &format!("Confirm: {verb} this action?"), &body)
}

/// The decision was recorded.
pub fn decided(req: &ApprovalRequest, decision: Decision, at: DateTime<Utc>) -> Response {
    let body = format!(
        "{}<p>You {} this request at {}. The other approvers will be told; their links no longer work.</p>",
        summary(req),
        decision.past_tense(),
        when(at)
    );
    page(StatusCode::OK, &format!("Thank you: {}", decision.past_tense()), &body)
}

/// A link that cannot decide, with the status that says why.
pub fn refused(refusal: &Refusal) -> Response {
    match refusal {
        Refusal::UnknownToken => {
            page(StatusCode::BAD_REQUEST, "This link is not valid", "<p>Use the link from your email, whole.</p>")
        }
        Refusal::Gone => page(StatusCode::GONE, "This request no longer exists", "<p>Nothing more is needed.</p>"),
        Refusal::Expired => page(
            StatusCode::GONE,
            "This link has expired",
            "<p>The request was not answered in time; nothing was decided.</p>",
        ),
        Refusal::Revoked => page(StatusCode::GONE, "This link was revoked", "<p>Nothing more is needed from you.</p>"),
        Refusal::Decided { decision, decided_at, by } => {
            let by = by.as_deref().map(|b| format!(" by {}", escape_html(b))).unwrap_or_default();
            let body = format!(
                "<p>This request was already <b>{}</b>{by} at {}. Your link no longer works; nothing more is \
                 needed from you.</p>",
                decision.past_tense(),
                when(*decided_at)
            );
            page(StatusCode::CONFLICT, &format!("Already {}", decision.past_tense()), &body)
        }
        Refusal::Conflict => page(StatusCode::CONFLICT, "Please try again", "<p>The request changed meanwhile.</p>"),
    }
}

/// The link itself is malformed (no token, wrong length, unknown action…).
pub fn malformed(what: &str) -> Response {
    page(StatusCode::BAD_REQUEST, "This link is not valid", &format!("<p>{}</p>", escape_html(what)))
}

pub fn unavailable() -> Response {
    page(StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong", "<p>Please try the link again in a minute.</p>")
}
