//! Roles come from the token: a `roles` claim, or Cognito's `cognito:groups`.
//! API Gateway hands every claim over as a string, arrays rendered `[a b]`; the
//! local dev tokens carry `"requester approver"`. All of these parse the same.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Creates workflows, saves them and requests their approval.
    Requester,
    /// Approves or rejects requests of workflows that name them, never their own.
    Approver,
    /// Reads the audit trail and verifies its chains.
    Auditor,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Requester => "requester",
            Role::Approver => "approver",
            Role::Auditor => "auditor",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "requester" | "requesters" => Some(Role::Requester),
            "approver" | "approvers" => Some(Role::Approver),
            "auditor" | "auditors" => Some(Role::Auditor),
            _ => None,
        }
    }
}

/// The caller's roles. Unknown names (other groups) are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Roles(BTreeSet<Role>);

impl Roles {
    pub fn of(roles: &[Role]) -> Self {
        Self(roles.iter().copied().collect())
    }

    /// `[a b]`, `a b`, `a,b` or a JSON array.
    pub fn from_claim(raw: &str) -> Self {
        let raw = raw.trim();
        if let Ok(list) = serde_json::from_str::<Vec<String>>(raw) {
            return Self(list.iter().filter_map(|n| Role::from_name(n.trim())).collect());
        }
        let inner = raw.strip_prefix('[').and_then(|r| r.strip_suffix(']')).unwrap_or(raw);
        Self(
            inner
                .split(|c: char| c.is_whitespace() || c == ',')
                .map(|n| n.trim_matches(|c| c == '"' || c == '\''))
                .filter_map(Role::from_name)
                .collect(),
        )
    }

    pub fn merge(mut self, other: Roles) -> Self {
        self.0.extend(other.0);
        self
    }

    pub fn has(&self, role: Role) -> bool {
        self.0.contains(&role)
    }

    /// In a stable order, for events and records.
    pub fn to_vec(&self) -> Vec<Role> {
        self.0.iter().copied().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_claim_rendering_parses_the_same() {
        let both = Roles::of(&[Role::Requester, Role::Approver]);
        for raw in ["[requester approver]", "requester approver", "requester,approver", r#"["requester","approver"]"#] {
            assert_eq!(Roles::from_claim(raw), both, "{raw}");
        }
        assert_eq!(Roles::from_claim("[Auditors admins]"), Roles::of(&[Role::Auditor]));
        assert_eq!(Roles::from_claim(""), Roles::default());
        assert!(!Roles::from_claim("admin").has(Role::Auditor));
    }
}
