//! The on-prem service's request, parsed: invalid input never reaches the store.

use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Most approvers one request may name (one email each; one item holds them all).
pub const MAX_APPROVERS: usize = 20;
/// Longest validity a request may ask for: one week.
pub const MAX_EXPIRES_IN_MINUTES: i64 = 7 * 24 * 60;
/// `action_parameters` as JSON text, at most (they ride on one DynamoDB item and in emails).
pub const MAX_PARAMETERS_BYTES: usize = 16 * 1024;

/// What `POST /approval-requests` accepts. Unknown fields are ignored (tolerant reader).
#[derive(Debug, Clone, Deserialize)]
pub struct Submission {
    pub request_id: Option<String>,
    pub issue_id: String,
    pub action: String,
    #[serde(default)]
    pub action_parameters: Value,
    pub approvers: Vec<String>,
    pub expires_in_minutes: i64,
    /// Whether the others (and later clicks) may be told who decided.
    #[serde(default)]
    pub reveal_approver: bool,
}

/// Which fields were wrong. Never holds the values: they may be email addresses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid request: {}", .0.join("; "))]
pub struct InvalidRequest(pub Vec<String>);

/// What a request id must be, as a refusal says it (never quoting the value).
const REQUEST_ID_RULE: &str = "request_id must be 1-64 characters of A-Z, a-z, 0-9, '-' or '_'";

/// `[A-Za-z0-9_-]{1,64}`: safe in paths, keys, FIFO group and deduplication ids.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(String);

impl RequestId {
    pub fn parse(text: &str) -> Option<Self> {
        let ok = !text.is_empty()
            && text.len() <= 64
            && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then(|| Self(text.to_owned()))
    }

    /// As [`RequestId::parse`], refused with the rule: for ids in messages, which
    /// may hold anything (even an address), and must not reach a key or a reason.
    pub fn checked(text: &str) -> Result<Self, InvalidRequest> {
        Self::parse(text).ok_or_else(|| InvalidRequest(vec![REQUEST_ID_RULE.to_owned()]))
    }
    pub fn random() -> Self {
        Self(uuid::Uuid::new_v4().to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A valid request, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRequest {
    pub request_id: RequestId,
    pub issue_id: String,
    pub action: String,
    pub action_parameters: Value,
    pub approvers: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub reveal_approver: bool,
    /// Tells a retry of this request (same id, same content) from a reused id.
    pub content_hash: String,
}

fn printable(text: &str, max: usize) -> bool {
    !text.trim().is_empty() && text.chars().count() <= max && !text.chars().any(char::is_control)
}

/// An action name the on-prem processor can dispatch on: `[a-z0-9._-]{1,64}`.
fn action_name(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 64
        && text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-'))
}

/// Deliberately simple: one `@`, something before it, a dotted domain after, no
/// spaces or controls. SES rejects what gets through and is undeliverable.
pub fn plausible_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    text.len() <= 254
        && !local.is_empty()
        && local.len() <= 64
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !text.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"' | ','))
}

impl NewRequest {
    pub fn parse(sub: Submission, now: DateTime<Utc>) -> Result<Self, InvalidRequest> {
        let mut problems = Vec::new();
        let request_id = match sub.request_id.as_deref() {
            None => Some(RequestId::random()),
            Some(raw) => RequestId::parse(raw).or_else(|| {
                problems.push(REQUEST_ID_RULE.to_owned());
                None
            }),
        };
        if !printable(&sub.issue_id, 128) {
            problems.push("issue_id must be 1-128 printable characters".to_owned());
        }
        if !action_name(&sub.action) {
            problems.push("action must be 1-64 characters of a-z, 0-9, '.', '_' or '-'".to_owned());
        }
        let action_parameters = match sub.action_parameters {
            Value::Null => Value::Object(Default::default()),
            v @ Value::Object(_) => v,
            _ => {
                problems.push("action_parameters must be a JSON object".to_owned());
                Value::Null
            }
        };
        if action_parameters.to_string().len() > MAX_PARAMETERS_BYTES {
            problems.push(format!("action_parameters must be at most {MAX_PARAMETERS_BYTES} bytes as JSON"));
        }
        let mut approvers: Vec<String> = Vec::new();
        for (i, raw) in sub.approvers.iter().enumerate() {
            let email = raw.trim();
            if !plausible_email(email) {
                // The position, never the value: it is somebody's address.
                problems.push(format!("approvers[{i}] is not an email address"));
            } else if !approvers.iter().any(|a| a.eq_ignore_ascii_case(email)) {
                approvers.push(email.to_owned());
            }
        }
        if approvers.is_empty() && problems.iter().all(|p| !p.starts_with("approvers")) {
            problems.push("approvers must name at least one email address".to_owned());
        }
        if approvers.len() > MAX_APPROVERS {
            problems.push(format!("approvers may name at most {MAX_APPROVERS} addresses"));
        }
        if !(1..=MAX_EXPIRES_IN_MINUTES).contains(&sub.expires_in_minutes) {
            problems.push(format!("expires_in_minutes must be from 1 to {MAX_EXPIRES_IN_MINUTES}"));
        }
        let Some(request_id) = request_id.filter(|_| problems.is_empty()) else {
            return Err(InvalidRequest(problems));
        };
        let content_hash =
            content_hash(&sub.issue_id, &sub.action, &action_parameters, &approvers, sub.reveal_approver);
        Ok(Self {
            request_id,
            issue_id: sub.issue_id,
            action: sub.action,
            action_parameters,
            approvers,
            created_at: now,
            expires_at: now + Duration::minutes(sub.expires_in_minutes),
            reveal_approver: sub.reveal_approver,
            content_hash,
        })
    }
}

/// What makes two submissions "the same request". The expiry is left out: a retry
/// a minute later asks for the same validity but computes a later instant.
fn content_hash(issue_id: &str, action: &str, parameters: &Value, approvers: &[String], reveal: bool) -> String {
    let mut lowered: Vec<String> = approvers.iter().map(|a| a.to_ascii_lowercase()).collect();
    lowered.sort();
    let canonical = serde_json::json!([issue_id, action, parameters, lowered, reveal]);
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        "2024-06-01T12:00:00Z".parse().unwrap()
    }

    fn submission(v: Value) -> Submission {
        serde_json::from_value(v).unwrap()
    }

    fn valid() -> Value {
        json!({
            "request_id": "req-1",
            "issue_id": "INC-42",
            "action": "restart-service",
            "action_parameters": {"service": "billing"},
            "approvers": ["a@example.com", "B@example.com", "b@example.com"],
            "expires_in_minutes": 30,
        })
    }

    #[test]
    fn a_valid_request_is_parsed_with_duplicates_removed() {
        let r = NewRequest::parse(submission(valid()), now()).unwrap();
        assert_eq!(r.request_id.as_str(), "req-1");
        assert_eq!(r.approvers, vec!["a@example.com", "B@example.com"]);
        assert_eq!(r.expires_at, now() + Duration::minutes(30));
        assert!(!r.reveal_approver);
    }

    #[test]
    fn a_missing_request_id_gets_a_fresh_one() {
        let mut v = valid();
        v.as_object_mut().unwrap().remove("request_id");
        let a = NewRequest::parse(submission(v.clone()), now()).unwrap();
        let b = NewRequest::parse(submission(v), now()).unwrap();
        assert_ne!(a.request_id, b.request_id);
        assert_eq!(a.content_hash, b.content_hash);
    }

    #[test]
    fn every_problem_is_named_and_no_address_is_echoed() {
        let v = json!({
            "request_id": "bad id!",
            "issue_id": "",
            "action": "Restart Service",
            "action_parameters": [1],
            "approvers": ["not-an-address", "x@y.z"],
            "expires_in_minutes": 0,
        });
        let err = NewRequest::parse(submission(v), now()).unwrap_err();
        let text = err.to_string();
        for field in ["request_id", "issue_id", "action ", "action_parameters", "approvers[0]", "expires_in_minutes"] {
            assert!(text.contains(field), "{field}: {text}");
        }
        assert!(!text.contains("not-an-address"), "{text}");
    }

    #[test]
    fn too_many_approvers_and_too_long_validity_are_refused() {
        let mut v = valid();
        v["approvers"] = json!((0..21).map(|i| format!("p{i}@example.com")).collect::<Vec<_>>());
        v["expires_in_minutes"] = json!(MAX_EXPIRES_IN_MINUTES + 1);
        let text = NewRequest::parse(submission(v), now()).unwrap_err().to_string();
        assert!(text.contains("at most 20"), "{text}");
        assert!(text.contains("expires_in_minutes"), "{text}");
    }

    #[test]
    fn the_content_hash_ignores_order_and_case_of_approvers() {
        let a = NewRequest::parse(submission(valid()), now()).unwrap();
        let mut v = valid();
        v["approvers"] = json!(["b@example.com", "A@EXAMPLE.COM"]);
        let b = NewRequest::parse(submission(v), now() + Duration::minutes(1)).unwrap();
        assert_eq!(a.content_hash, b.content_hash);
        let mut v = valid();
        v["action_parameters"] = json!({"service": "other"});
        assert_ne!(a.content_hash, NewRequest::parse(submission(v), now()).unwrap().content_hash);
    }

    #[test]
    fn emails_are_plausible_or_not() {
        for ok in ["a@b.co", "first.last+tag@sub.example.gov.uk"] {
            assert!(plausible_email(ok), "{ok}");
        }
        for bad in ["", "a", "@b.co", "a@b", "a@.b", "a b@c.d", "a@b.c,d@e.f", "<a@b.c>"] {
            assert!(!plausible_email(bad), "{bad}");
        }
    }
}
