//! The API's request bodies, parsed into what the use cases accept. Unknown fields
//! are refused: a typo (`comments`) should be a 400, not silently dropped.

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

use crate::canonical;
use crate::error::InvalidInput;
use crate::ids::{Scheme, UserId, WorkflowId};
use crate::workflow::ActionKind;

/// Submitted data, as canonical JSON, at most this long (SNS carries it, and
/// DynamoDB items are 400 KB at most).
pub const MAX_DATA_BYTES: usize = 16 * 1024;
pub const MAX_COMMENT_CHARS: usize = 1000;
pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_APPROVERS: usize = 10;

/// `POST /workflows`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewWorkflowBody {
    /// Optional: a client that picks the id can retry a create safely.
    pub workflow_id: Option<String>,
    pub scheme: String,
    pub title: Option<String>,
    pub approvers: Vec<String>,
    pub data: Option<Value>,
    pub comment: Option<String>,
}

/// `POST /workflows/{id}/actions`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionBody {
    pub action: String,
    pub data: Option<Value>,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewWorkflow {
    pub workflow_id: Option<WorkflowId>,
    pub scheme: Scheme,
    pub title: Option<String>,
    pub approvers: Vec<UserId>,
    pub data: Option<Value>,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ActionRequest {
    pub action: ActionKind,
    pub data: Option<Value>,
    pub comment: Option<String>,
}

/// A JSON body, whatever its content type. serde quotes offending values in its
/// messages (a body may hold names and comments): the reason is redacted.
pub fn json_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, InvalidInput> {
    if body.is_empty() {
        return Err(InvalidInput::new("a JSON body is required"));
    }
    serde_json::from_slice(body)
        .map_err(|e| InvalidInput::new(format!("the body is not valid: {}", kit::decode::redacted(&e))))
}

fn text(field: &str, value: Option<String>, max: usize) -> Result<Option<String>, InvalidInput> {
    let Some(v) = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if v.chars().count() > max {
        return Err(InvalidInput::new(format!("{field} may be at most {max} characters")));
    }
    if v.chars().any(|c| c.is_control() && c != '\n') {
        return Err(InvalidInput::new(format!("{field} has control characters")));
    }
    Ok(Some(v))
}

fn data(value: Option<Value>) -> Result<Option<Value>, InvalidInput> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(v @ Value::Object(_)) => {
            if canonical::to_string(&v).len() > MAX_DATA_BYTES {
                return Err(InvalidInput::new(format!("data may be at most {MAX_DATA_BYTES} bytes of JSON")));
            }
            Ok(Some(v))
        }
        Some(_) => Err(InvalidInput::new("data must be a JSON object")),
    }
}

impl NewWorkflow {
    pub fn parse(body: NewWorkflowBody, owner: &UserId) -> Result<Self, InvalidInput> {
        let workflow_id = body.workflow_id.as_deref().map(WorkflowId::parse).transpose()?;
        let scheme = Scheme::parse(&body.scheme)?;
        if body.approvers.is_empty() || body.approvers.len() > MAX_APPROVERS {
            return Err(InvalidInput::new(format!("approvers must name 1 to {MAX_APPROVERS} users")));
        }
        let mut approvers: Vec<UserId> = Vec::new();
        for raw in &body.approvers {
            let user = UserId::parse(raw)?;
            if user == *owner {
                return Err(InvalidInput::new("the requester cannot be an approver of their own workflow"));
            }
            if !approvers.contains(&user) {
                approvers.push(user);
            }
        }
        Ok(Self {
            workflow_id,
            scheme,
            title: text("title", body.title, MAX_TITLE_CHARS)?,
            approvers,
            data: data(body.data)?,
            comment: text("comment", body.comment, MAX_COMMENT_CHARS)?,
        })
    }
}

impl ActionRequest {
    pub fn parse(body: ActionBody) -> Result<Self, InvalidInput> {
        let action = match body.action.trim().to_ascii_lowercase().as_str() {
            "save" => ActionKind::Save,
            "request" => ActionKind::Request,
            "approve" => ActionKind::Approve,
            "reject" => ActionKind::Reject,
            _ => return Err(InvalidInput::new("action must be one of save, request, approve, reject")),
        };
        let data = data(body.data)?;
        if data.is_some() && !action.carries_data() {
            return Err(InvalidInput::new("an approval or rejection cannot change the workflow's data"));
        }
        Ok(Self { action, data, comment: text("comment", body.comment, MAX_COMMENT_CHARS)? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn owner() -> UserId {
        UserId::parse("alice").unwrap()
    }

    fn body(approvers: &[&str]) -> NewWorkflowBody {
        NewWorkflowBody {
            scheme: "grants".into(),
            approvers: approvers.iter().map(|a| (*a).to_owned()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn a_new_workflow_needs_a_scheme_and_approvers_other_than_its_requester() {
        let ok = NewWorkflow::parse(body(&["bob", "bob", "carol"]), &owner()).unwrap();
        assert_eq!(ok.approvers.len(), 2, "duplicates collapse");
        assert!(NewWorkflow::parse(body(&[]), &owner()).is_err());
        assert!(NewWorkflow::parse(body(&["alice"]), &owner()).is_err());
        let mut bad_scheme = body(&["bob"]);
        bad_scheme.scheme = "no spaces".into();
        assert!(NewWorkflow::parse(bad_scheme, &owner()).is_err());
    }

    #[test]
    fn actions_parse_and_decisions_carry_no_data() {
        let save = ActionBody { action: "Save".into(), data: Some(json!({"a": 1})), comment: Some(" hi ".into()) };
        let parsed = ActionRequest::parse(save).unwrap();
        assert_eq!(parsed.action, ActionKind::Save);
        assert_eq!(parsed.comment.as_deref(), Some("hi"));
        let approve = ActionBody { action: "approve".into(), data: Some(json!({"a": 1})), comment: None };
        assert!(ActionRequest::parse(approve).is_err());
        let unknown = ActionBody { action: "delete".into(), data: None, comment: None };
        assert!(ActionRequest::parse(unknown).is_err());
        let list = ActionBody { action: "save".into(), data: Some(json!([1])), comment: None };
        assert!(ActionRequest::parse(list).is_err(), "data is an object");
        let huge =
            ActionBody { action: "save".into(), data: Some(json!({"x": "a".repeat(MAX_DATA_BYTES)})), comment: None };
        assert!(ActionRequest::parse(huge).is_err());
    }

    #[test]
    fn a_body_that_is_not_json_is_refused_without_quoting_it() {
        assert_eq!(json_body::<ActionBody>(b"").unwrap_err().to_string(), "a JSON body is required");
        let err = json_body::<ActionBody>(br#"{"action": ["bob@example.org"]}"#).unwrap_err().to_string();
        assert!(err.starts_with("the body is not valid") && !err.contains("bob@"), "{err}");
    }

    #[test]
    fn unknown_fields_are_refused() {
        assert!(serde_json::from_value::<ActionBody>(json!({"action": "save", "comments": "x"})).is_err());
    }
}
