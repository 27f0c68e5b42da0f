//! The caller, from a verified token's claims as API Gateway hands them over (every
//! value a string, a list rendered `[a b]`). Roles come from the `roles` claim and
//! Cognito's `cognito:groups`, each read by `kit::claims`, merged; names that are not
//! exactly our roles grant nothing.

use std::collections::HashMap;

use crate::ids::UserId;
use crate::roles::Roles;
use crate::workflow::Caller;

/// Claims whose values name roles.
pub const ROLE_CLAIMS: [&str; 2] = ["roles", "cognito:groups"];

impl Caller {
    /// `None` when the token has no `sub` that can be a user id.
    pub fn from_claims(claims: &HashMap<String, String>) -> Option<Self> {
        let user = UserId::parse(claims.get("sub")?).ok()?;
        let roles = ROLE_CLAIMS
            .iter()
            .filter_map(|name| claims.get(*name))
            .fold(Roles::default(), |acc, raw| acc.merge(Roles::from_claim(raw)));
        Some(Caller { user, roles })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roles::Role;

    fn claims(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn both_role_claims_are_merged_and_other_claims_grant_nothing() {
        let c = Caller::from_claims(&claims(&[
            ("sub", "alice"),
            ("roles", "[requester]"),
            ("cognito:groups", "auditors"),
            ("scope", "approver"),
        ]))
        .unwrap();
        assert_eq!(c.user.as_str(), "alice");
        assert_eq!(c.roles, Roles::of(&[Role::Requester, Role::Auditor]));
    }

    /// Issue 13: in either claim, a name holding a role's name is not that role.
    #[test]
    fn names_that_only_contain_a_role_grant_nothing() {
        for claim in ROLE_CLAIMS {
            for value in ["x,auditor", "Night auditor", "[x,auditor]", "requester approver"] {
                let c = Caller::from_claims(&claims(&[("sub", "alice"), (claim, value)])).unwrap();
                assert_eq!(c.roles, Roles::default(), "{claim}={value:?}");
            }
        }
        let c = Caller::from_claims(&claims(&[
            ("sub", "alice"),
            ("roles", "x,auditor"),
            ("cognito:groups", "[approvers]"),
        ]))
        .unwrap();
        assert_eq!(c.roles, Roles::of(&[Role::Approver]));
    }

    #[test]
    fn no_usable_sub_is_no_caller() {
        assert!(Caller::from_claims(&claims(&[("roles", "auditor")])).is_none());
        assert!(Caller::from_claims(&claims(&[("sub", "a/b")])).is_none());
    }
}
