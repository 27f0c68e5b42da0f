//! Identifiers that reach the domain only once parsed: a user id that could not be
//! an MQTT topic segment, or a workflow id with a separator in it, never gets in.

use serde::{Deserialize, Serialize};

use crate::error::InvalidInput;

fn check(kind: &str, raw: &str, max: usize, ok: impl Fn(char) -> bool) -> Result<String, InvalidInput> {
    let value = raw.trim();
    if value.is_empty() || value.chars().count() > max {
        return Err(InvalidInput::new(format!("{kind} must be 1 to {max} characters")));
    }
    if !value.chars().all(ok) {
        return Err(InvalidInput::new(format!("{kind} has a character it may not contain")));
    }
    Ok(value.to_owned())
}

/// A user (the token's `sub`). It names the user's notification topic
/// (`notifications-{user}`), so MQTT's separators and wildcards are refused.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(String);

impl UserId {
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        check("a user id", raw, 128, |c| !c.is_whitespace() && !c.is_control() && !matches!(c, '/' | '+' | '#'))
            .map(Self)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for UserId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A workflow: letters, digits, `-` and `_` (a UUID when the server picks it).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct WorkflowId(String);

impl WorkflowId {
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        check("workflow_id", raw, 64, |c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_')).map(Self)
    }
    pub fn generate() -> Self {
        Self(uuid::Uuid::new_v4().to_string())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for WorkflowId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The scheme a workflow belongs to (the seed's first searchable field).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Scheme(String);

impl Scheme {
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        check("scheme", raw, 64, |c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')).map(Self)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_ids_cannot_carry_topic_separators_or_wildcards() {
        assert!(UserId::parse("user-1").is_ok());
        assert!(UserId::parse("64ea2780-c371-11eb-a905-a3c").is_ok());
        for bad in ["", "  ", "a/b", "a+", "#", "a b", &"x".repeat(129)] {
            assert!(UserId::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn workflow_ids_and_schemes_are_plain_tokens() {
        assert!(WorkflowId::parse("wf_1-A").is_ok());
        assert!(WorkflowId::parse("wf#1").is_err());
        assert!(Scheme::parse("grants.2024").is_ok());
        assert!(Scheme::parse("grants 2024").is_err());
        assert_ne!(WorkflowId::generate(), WorkflowId::generate());
    }
}
