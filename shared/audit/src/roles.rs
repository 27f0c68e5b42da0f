//! Roles come from the token: a `roles` claim, or Cognito's `cognito:groups`. Both are
//! read by `kit::claims` (a flattened array `[a b]`, a JSON array, or one name), and each
//! name must be exactly one of ours: `Night auditor` or `x,auditor` grants nothing.

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

    /// Exact names only (case-sensitive, untrimmed). Besides the role's own name, the
    /// plural is the name of the Cognito group holding the role's users (groups are
    /// named for their members: `requesters`, `approvers`, `auditors`), so a user pool
    /// needs no renaming and no `roles` claim. No other spelling grants anything.
    fn from_name(name: &str) -> Option<Self> {
        match name {
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

    /// The roles one claim value names (see `kit::claims` for the forms it arrives in).
    pub fn from_claim(raw: &str) -> Self {
        Self(kit::claims::names(raw).iter().filter_map(|n| Role::from_name(n)).collect())
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
    fn a_flattened_or_json_array_names_each_role() {
        let both = Roles::of(&[Role::Requester, Role::Approver]);
        for raw in ["[requester approver]", r#"["requester","approver"]"#, "[approvers requesters admins]"] {
            assert_eq!(Roles::from_claim(raw), both, "{raw}");
        }
        assert_eq!(Roles::from_claim("auditor"), Roles::of(&[Role::Auditor]));
        assert_eq!(Roles::from_claim("[auditors]"), Roles::of(&[Role::Auditor]));
        assert_eq!(Roles::from_claim(""), Roles::default());
        assert_eq!(Roles::from_claim("[]"), Roles::default());
    }

    /// Issue 13: a name that merely contains a role's name grants nothing.
    #[test]
    fn only_exact_names_grant() {
        for raw in [
            "x,auditor",
            "Night auditor",
            "requester approver",
            "requester,approver",
            "Auditors",
            "AUDITOR",
            " auditor",
            "auditor ",
            "[Auditors admins]",
            "[x,auditor]",
            "admin",
            "auditorz",
        ] {
            assert_eq!(Roles::from_claim(raw), Roles::default(), "{raw:?}");
        }
    }
}
