//! The custom authorizer's answer, read as AWS IoT Core reads it, and the
//! connection's policy it carries: every CONNECT, SUBSCRIBE, PUBLISH and
//! delivered message is checked against it (`iot:Connect` on `client/{id}`,
//! `iot:Subscribe` on `topicfilter/{filter}`, `iot:Publish` and `iot:Receive` on
//! `topic/{name}`), with the same evaluation as the functions' IAM policies.

use std::time::Duration;

use serde_json::Value;

use crate::iam::evaluate::{evaluate, Caller, Check};
use crate::iam::policy::{parse_document, Statement};

/// IoT's limits on an authorizer's answer.
const MAX_DOCUMENTS: usize = 10;
const MAX_DOCUMENT_CHARS: usize = 2_048;
const MIN_SECONDS: u64 = 300;
const MAX_SECONDS: u64 = 86_400;

/// An answer IoT would not accept: the connection fails as if denied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResponseError {
    #[error("the answer is not a JSON object with isAuthenticated")]
    Shape,
    #[error("principalId must match [a-zA-Z0-9]{{1,128}}")]
    PrincipalId,
    #[error("{0} policy documents (at most 10)")]
    TooManyDocuments(usize),
    #[error("a policy document of {0} characters (at most 2048)")]
    DocumentTooLong(usize),
    #[error("{field} must be an integer from 300 to 86400")]
    Duration { field: &'static str },
    #[error("policy document: {0}")]
    Policy(String),
}

/// What the authorizer decided for one connection.
#[derive(Debug, Clone)]
pub enum Authorization {
    Denied,
    Allowed(ConnectionPolicy),
}

/// An authenticated connection's policy and lifetimes.
#[derive(Debug, Clone)]
pub struct ConnectionPolicy {
    pub principal_id: String,
    statements: Vec<Statement>,
    pub disconnect_after: Duration,
    pub refresh_after: Duration,
}

impl ConnectionPolicy {
    /// Whether the policy allows `action` (`iot:Subscribe`...) on `resource`.
    pub fn allows(&self, action: &str, resource: &str) -> bool {
        let caller = Caller {
            role_arn: format!("iot-principal/{}", self.principal_id),
            session_arn: format!("iot-principal/{}", self.principal_id),
            account: String::new(),
        };
        evaluate(&self.statements, &[], &caller, &Check::new(action, resource)).allowed()
    }
}

fn seconds(response: &Value, field: &'static str) -> Result<Duration, ResponseError> {
    response
        .get(field)
        .and_then(Value::as_u64)
        .filter(|s| (MIN_SECONDS..=MAX_SECONDS).contains(s))
        .map(Duration::from_secs)
        .ok_or(ResponseError::Duration { field })
}

/// Reads the authorizer's answer. Policy documents may be objects (as the
/// developer guide shows) or JSON strings.
pub fn read_response(response: &Value) -> Result<Authorization, ResponseError> {
    let authenticated = response.get("isAuthenticated").and_then(Value::as_bool).ok_or(ResponseError::Shape)?;
    if !authenticated {
        return Ok(Authorization::Denied);
    }
    let principal_id = response.get("principalId").and_then(Value::as_str).unwrap_or_default();
    if principal_id.is_empty() || principal_id.len() > 128 || !principal_id.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(ResponseError::PrincipalId);
    }
    let documents = response.get("policyDocuments").and_then(Value::as_array).cloned().unwrap_or_default();
    if documents.len() > MAX_DOCUMENTS {
        return Err(ResponseError::TooManyDocuments(documents.len()));
    }
    let mut statements = Vec::new();
    for (i, document) in documents.iter().enumerate() {
        let (text, parsed) = match document {
            Value::String(text) => {
                (text.clone(), serde_json::from_str(text).map_err(|e| ResponseError::Policy(e.to_string()))?)
            }
            other => (other.to_string(), other.clone()),
        };
        if text.chars().count() > MAX_DOCUMENT_CHARS {
            return Err(ResponseError::DocumentTooLong(text.chars().count()));
        }
        let origin = format!("authorizer policy {i}");
        statements.extend(parse_document(&origin, &parsed).map_err(|e| ResponseError::Policy(e.to_string()))?);
    }
    Ok(Authorization::Allowed(ConnectionPolicy {
        principal_id: principal_id.to_owned(),
        statements,
        disconnect_after: seconds(response, "disconnectAfterInSeconds")?,
        refresh_after: seconds(response, "refreshAfterInSeconds")?,
    }))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const P: &str = "arn:aws:iot:eu-west-2:123456789012";

    fn answer() -> Value {
        json!({
            "isAuthenticated": true,
            "principalId": "abc123",
            "disconnectAfterInSeconds": 3600,
            "refreshAfterInSeconds": 300,
            "policyDocuments": [{
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": "iot:Connect", "Resource": [format!("{P}:client/u1"), format!("{P}:client/u1/*")]},
                    {"Effect": "Allow", "Action": "iot:Subscribe", "Resource": format!("{P}:topicfilter/notifications-u1")},
                    {"Effect": "Allow", "Action": "iot:Receive", "Resource": format!("{P}:topic/notifications-u1")},
                ],
            }],
        })
    }

    fn policy(v: &Value) -> ConnectionPolicy {
        match read_response(v).unwrap() {
            Authorization::Allowed(p) => p,
            Authorization::Denied => panic!("denied"),
        }
    }

    #[test]
    fn the_policy_decides_each_action_literally() {
        let p = policy(&answer());
        assert_eq!(p.disconnect_after, Duration::from_secs(3600));
        assert!(p.allows("iot:Connect", &format!("{P}:client/u1/tab-1")));
        assert!(!p.allows("iot:Connect", &format!("{P}:client/u2")));
        assert!(p.allows("iot:Subscribe", &format!("{P}:topicfilter/notifications-u1")));
        for filter in ["notifications-u2", "notifications-#", "#", "notifications-+"] {
            assert!(!p.allows("iot:Subscribe", &format!("{P}:topicfilter/{filter}")), "{filter}");
        }
        assert!(p.allows("iot:Receive", &format!("{P}:topic/notifications-u1")));
        assert!(!p.allows("iot:Publish", &format!("{P}:topic/notifications-u1")));
    }

    #[test]
    fn answers_iot_would_refuse_are_errors() {
        assert!(matches!(read_response(&json!({"isAuthenticated": false})), Ok(Authorization::Denied)));
        assert_eq!(read_response(&json!({})).err(), Some(ResponseError::Shape));
        let mut a = answer();
        a["principalId"] = json!("user-1");
        assert_eq!(read_response(&a).err(), Some(ResponseError::PrincipalId));
        let mut a = answer();
        a["refreshAfterInSeconds"] = json!(60);
        assert!(matches!(read_response(&a), Err(ResponseError::Duration { field: "refreshAfterInSeconds" })));
        let mut a = answer();
        a["policyDocuments"] = json!(vec![a["policyDocuments"][0].clone(); 11]);
        assert_eq!(read_response(&a).err(), Some(ResponseError::TooManyDocuments(11)));
        let mut a = answer();
        a["policyDocuments"] = json!([a["policyDocuments"][0].to_string()]);
        assert!(policy(&a).allows("iot:Receive", &format!("{P}:topic/notifications-u1")), "a string document");
    }
}
