//! What the frontend drops on `report-suspicious-activity`, and its validation.

use activity::{EventId, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Most activity-log events one report may list: keeps the marking transaction
/// (one item per event plus the report) inside DynamoDB's 100-item limit.
pub const MAX_EVENTS: usize = 50;
const MAX_EMAIL_LEN: usize = 254;

/// The frontend's message, as sent. Unknown fields are ignored (a tolerant reader:
/// the frontend can add a field before this step reads it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportSubmission {
    pub report_id: String,
    pub user_id: String,
    pub email: String,
    pub event_ids: Vec<String>,
    pub reported_at: DateTime<Utc>,
}

/// Why a submission cannot become a report. Messages name fields, never values:
/// they end up in logs and DLQ attributes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidReport {
    #[error("report_id must be a UUID")]
    ReportId,
    #[error("user_id: {0}")]
    UserId(String),
    #[error("email is not a valid email address")]
    Email,
    #[error("event_ids must list between 1 and {MAX_EVENTS} events, found {0}")]
    EventCount(usize),
    #[error("event_ids[{index}]: {reason}")]
    EventId { index: usize, reason: String },
    #[error("event_ids lists an event twice (positions {first} and {second})")]
    DuplicateEvent { first: usize, second: usize },
}

/// A validated report request: what every step of the workflow carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportRequest {
    pub report_id: Uuid,
    pub user_id: UserId,
    /// Only for the confirmation email: never logged, never stored.
    pub email: String,
    pub event_ids: Vec<EventId>,
    pub reported_at: DateTime<Utc>,
}

/// A report id, from a submission or a URL path: a UUID in any of its forms.
pub fn parse_report_id(raw: &str) -> Result<Uuid, InvalidReport> {
    Uuid::parse_str(raw).map_err(|_| InvalidReport::ReportId)
}

impl ReportRequest {
    pub fn parse(raw: ReportSubmission) -> Result<Self, InvalidReport> {
        let report_id = parse_report_id(&raw.report_id)?;
        let user_id = UserId::parse(&raw.user_id).map_err(|e| InvalidReport::UserId(e.to_string()))?;
        if !plausible_email(&raw.email) {
            return Err(InvalidReport::Email);
        }
        if raw.event_ids.is_empty() || raw.event_ids.len() > MAX_EVENTS {
            return Err(InvalidReport::EventCount(raw.event_ids.len()));
        }
        let mut event_ids: Vec<EventId> = Vec::with_capacity(raw.event_ids.len());
        for (index, id) in raw.event_ids.iter().enumerate() {
            let id = EventId::parse(id).map_err(|e| InvalidReport::EventId { index, reason: e.to_string() })?;
            if let Some(first) = event_ids.iter().position(|seen| *seen == id) {
                return Err(InvalidReport::DuplicateEvent { first, second: index });
            }
            event_ids.push(id);
        }
        Ok(Self { report_id, user_id, email: raw.email, event_ids, reported_at: raw.reported_at })
    }

    /// What the report says, hashed: a report id reused for different content is
    /// refused instead of silently merged. The email is part of it, hashed only.
    pub fn content_hash(&self) -> String {
        let mut ids: Vec<&str> = self.event_ids.iter().map(EventId::as_str).collect();
        ids.sort_unstable();
        let canonical = serde_json::json!({
            "user_id": self.user_id.as_str(),
            "email": self.email.to_ascii_lowercase(),
            "event_ids": ids,
            "reported_at": self.reported_at.timestamp_micros(),
        });
        hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
    }
}

/// The checks Notify itself applies first: one `@`, a non-empty local part, a
/// dotted domain, no spaces, at most 254 characters. Notify has the last word.
fn plausible_email(email: &str) -> bool {
    if email.len() > MAX_EMAIL_LEN || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw() -> ReportSubmission {
        ReportSubmission {
            report_id: "8d0c7a4e-3b1f-4f5e-9a61-0c2b8e7d9f10".into(),
            user_id: "user-1".into(),
            email: "someone@example.gov.uk".into(),
            event_ids: vec!["e-1".into(), "e-2".into()],
            reported_at: "2024-06-01T12:00:00Z".parse().unwrap(),
        }
    }

    #[test]
    fn a_valid_submission_parses() {
        let r = ReportRequest::parse(raw()).unwrap();
        assert_eq!(r.event_ids.len(), 2);
        assert_eq!(r.user_id.as_str(), "user-1");
    }

    #[test]
    fn each_invalid_field_is_named() {
        type Mutation = fn(&mut ReportSubmission);
        let cases: Vec<(Mutation, InvalidReport)> = vec![
            (|r| r.report_id = "not-a-uuid".into(), InvalidReport::ReportId),
            (|r| r.email = "no-at-sign".into(), InvalidReport::Email),
            (|r| r.email = "a@b".into(), InvalidReport::Email),
            (|r| r.email = "a b@c.d".into(), InvalidReport::Email),
            (|r| r.event_ids.clear(), InvalidReport::EventCount(0)),
            (|r| r.event_ids = (0..51).map(|i| format!("e-{i}")).collect(), InvalidReport::EventCount(51)),
            (|r| r.event_ids.push("e-1".into()), InvalidReport::DuplicateEvent { first: 0, second: 2 }),
        ];
        for (mutate, expected) in cases {
            let mut r = raw();
            mutate(&mut r);
            assert_eq!(ReportRequest::parse(r).unwrap_err(), expected);
        }
        let mut r = raw();
        r.user_id = String::new();
        assert!(matches!(ReportRequest::parse(r), Err(InvalidReport::UserId(_))));
        let mut r = raw();
        r.event_ids[1] = "has space".into();
        assert!(matches!(ReportRequest::parse(r), Err(InvalidReport::EventId { index: 1, .. })));
    }

    #[test]
    fn errors_never_quote_the_email() {
        let mut r = raw();
        r.email = "secret.person@nowhere".into();
        let text = ReportRequest::parse(r).unwrap_err().to_string();
        assert!(!text.contains("secret.person"), "{text}");
    }

    #[test]
    fn the_content_hash_ignores_event_order_but_not_content() {
        let a = ReportRequest::parse(raw()).unwrap();
        let mut swapped = raw();
        swapped.event_ids.reverse();
        assert_eq!(a.content_hash(), ReportRequest::parse(swapped).unwrap().content_hash());
        let mut other = raw();
        other.event_ids.push("e-3".into());
        assert_ne!(a.content_hash(), ReportRequest::parse(other).unwrap().content_hash());
    }
}
