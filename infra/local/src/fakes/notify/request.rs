//! A `POST /v2/notifications/email` body checked as Notify's JSON schema
//! checks it, and the one template the fake knows, rendered as Notify
//! renders `((placeholders))`.

use serde_json::{Map, Value};

use crate::fakes::LOCAL_NOTIFY_TEMPLATE_ID;

const ALLOWED_FIELDS: &[&str] =
    &["email_address", "template_id", "personalisation", "reference", "email_reply_to_id", "one_click_unsubscribe_url"];

/// A valid send-email request.
#[derive(Debug, Clone, PartialEq)]
pub struct EmailRequest {
    pub email_address: String,
    pub template_id: String,
    pub personalisation: Map<String, Value>,
    pub reference: Option<String>,
}

/// Why a request is refused: schema failures (every one, as Notify lists
/// them) or one `BadRequestError`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Validation(Vec<String>),
    BadRequest(String),
}

impl EmailRequest {
    pub fn parse(body: &Value) -> Result<Self, Refusal> {
        let Some(fields) = body.as_object() else {
            return Err(Refusal::Validation(vec![format!("{body} is not of type object")]));
        };
        let mut errors: Vec<String> = fields
            .keys()
            .filter(|k| !ALLOWED_FIELDS.contains(&k.as_str()))
            .map(|k| format!("Additional properties are not allowed ({k} was unexpected)"))
            .collect();
        let email_address = match fields.get("email_address") {
            None => {
                errors.push("email_address is a required property".to_owned());
                None
            }
            Some(Value::String(e)) if is_email(e) => Some(e.trim().to_owned()),
            Some(_) => {
                errors.push("email_address Not a valid email address".to_owned());
                None
            }
        };
        let template_id = match fields.get("template_id") {
            None => {
                errors.push("template_id is a required property".to_owned());
                None
            }
            Some(Value::String(id)) if uuid::Uuid::parse_str(id).is_ok() => Some(id.to_ascii_lowercase()),
            Some(_) => {
                errors.push("template_id is not a valid UUID".to_owned());
                None
            }
        };
        let personalisation = match fields.get("personalisation") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(p)) => p.clone(),
            Some(other) => {
                errors.push(format!("personalisation {other} is not of type object"));
                Map::new()
            }
        };
        let reference = match fields.get("reference") {
            None | Some(Value::Null) => None,
            Some(Value::String(r)) => Some(r.clone()),
            Some(other) => {
                errors.push(format!("reference {other} is not of type string"));
                None
            }
        };
        match fields.get("email_reply_to_id") {
            None | Some(Value::Null) => {}
            Some(Value::String(id)) if uuid::Uuid::parse_str(id).is_ok() => {}
            Some(_) => errors.push("email_reply_to_id is not a valid UUID".to_owned()),
        }
        match (email_address, template_id) {
            (Some(email_address), Some(template_id)) if errors.is_empty() => {
                Ok(Self { email_address, template_id, personalisation, reference })
            }
            _ => Err(Refusal::Validation(errors)),
        }
    }
}

/// Notify's email-address rule, in short: one `@`, a local part, and a
/// domain of at least two dot-separated labels with a top-level domain of 2+
/// letters, no spaces.
fn is_email(text: &str) -> bool {
    let text = text.trim();
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    if local.is_empty() || domain.contains('@') || text.chars().any(char::is_whitespace) || local.contains("..") {
        return false;
    }
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    let tld_ok = labels.last().is_some_and(|t| t.len() >= 2 && t.chars().all(|c| c.is_ascii_alphabetic()));
    labels.len() >= 2 && labels.iter().all(label_ok) && tld_ok
}

/// An email template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Template {
    pub id: &'static str,
    pub subject: &'static str,
    pub body: &'static str,
}

/// The only template the fake has.
pub const LOCAL_TEMPLATE: Template = Template {
    id: LOCAL_NOTIFY_TEMPLATE_ID,
    subject: "We have received your report",
    body: "Your reference is ((ticket_id)).",
};

pub fn template(id: &str) -> Result<Template, Refusal> {
    if id.eq_ignore_ascii_case(LOCAL_TEMPLATE.id) {
        Ok(LOCAL_TEMPLATE)
    } else {
        Err(Refusal::BadRequest("Template not found".to_owned()))
    }
}

/// The rendered subject and body, or Notify's "Missing personalisation" error.
pub fn render(template: &Template, personalisation: &Map<String, Value>) -> Result<(String, String), Refusal> {
    let mut missing: Vec<String> = Vec::new();
    for name in placeholders(template.subject).into_iter().chain(placeholders(template.body)) {
        if value_of(personalisation, &name).is_none() && !missing.contains(&name) {
            missing.push(name);
        }
    }
    if !missing.is_empty() {
        return Err(Refusal::BadRequest(format!("Missing personalisation: {}", missing.join(", "))));
    }
    Ok((fill(template.subject, personalisation), fill(template.body, personalisation)))
}

/// `((name))` placeholders in order of appearance.
fn placeholders(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("((") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("))") else { break };
        found.push(after[..end].trim().to_owned());
        rest = &after[end + 2..];
    }
    found
}

fn fill(text: &str, personalisation: &Map<String, Value>) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("((") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("))") else { break };
        out.push_str(&rest[..start]);
        out.push_str(&value_of(personalisation, after[..end].trim()).unwrap_or_default());
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

/// A personalisation value as text; Notify matches names case-insensitively
/// and treats `null` as missing.
fn value_of(personalisation: &Map<String, Value>, name: &str) -> Option<String> {
    let value = personalisation.iter().find(|(k, _)| k.trim().eq_ignore_ascii_case(name)).map(|(_, v)| v)?;
    match value {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn email_addresses_are_checked_like_notify() {
        for good in ["a@b.co", "first.last+tag@sub.example.gov.uk", " padded@example.com "] {
            assert!(is_email(good), "{good}");
        }
        for bad in ["", "no-at", "@example.com", "a@b", "a@b.c", "a b@example.com", "a@@b.com", "a@-b.com", "a@b.c0m"] {
            assert!(!is_email(bad), "{bad}");
        }
    }

    #[test]
    fn every_schema_error_is_listed() {
        let body = json!({"email_address": "nope", "template_id": "x", "extra": 1, "reference": 5});
        let Err(Refusal::Validation(errors)) = EmailRequest::parse(&body) else {
            panic!("expected validation errors");
        };
        assert_eq!(
            errors,
            [
                "Additional properties are not allowed (extra was unexpected)",
                "email_address Not a valid email address",
                "template_id is not a valid UUID",
                "reference 5 is not of type string",
            ]
        );
        let Err(Refusal::Validation(errors)) = EmailRequest::parse(&json!({})) else {
            panic!("expected validation errors");
        };
        assert_eq!(errors, ["email_address is a required property", "template_id is a required property"]);
    }

    #[test]
    fn renders_placeholders_and_names_the_missing_ones() {
        let p = json!({"TICKET_ID": 1001}).as_object().cloned().unwrap_or_default();
        let (subject, body) = render(&LOCAL_TEMPLATE, &p).expect("rendered");
        assert_eq!(subject, "We have received your report");
        assert_eq!(body, "Your reference is 1001.");
        let none = json!({"ticket_id": null}).as_object().cloned().unwrap_or_default();
        assert_eq!(
            render(&LOCAL_TEMPLATE, &none),
            Err(Refusal::BadRequest("Missing personalisation: ticket_id".into()))
        );
        assert!(template(&uuid::Uuid::new_v4().to_string()).is_err());
    }
}
