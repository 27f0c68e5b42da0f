//! Who may read the contacts: a verified token whose role claim names the
//! operations role. API Gateway hands every claim over as a string, a list claim
//! rendered `[ops admin]`; `kit::claims` reads it, and only the exact role name grants.

/// The claim that carries roles, and the role the contacts API requires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpsRole {
    pub claim: String,
    pub role: String,
}

impl OpsRole {
    /// Whether the claim's value lists exactly `role` (case-sensitive, untrimmed): a
    /// flattened `[a b]` or a JSON array lists its elements, any other text is one name.
    pub fn granted_by(&self, value: &str) -> bool {
        kit::claims::names_include(value, &self.role)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ops() -> OpsRole {
        OpsRole { claim: "roles".into(), role: "ops".into() }
    }

    #[test]
    fn reads_the_forms_a_role_claim_arrives_in() {
        for granted in ["ops", "[ops]", "[admin ops]", r#"["admin","ops"]"#] {
            assert!(ops().granted_by(granted), "{granted}");
        }
        for refused in ["", "[]", "operations", "devops", "[admin]", "OPS", " ops", "[operations]"] {
            assert!(!ops().granted_by(refused), "{refused}");
        }
    }

    /// Issue 13: a plain string is one name, never split on spaces or commas.
    #[test]
    fn a_name_that_only_contains_the_role_is_refused() {
        for refused in ["Night ops", "x,ops", "admin,ops", "admin ops", "ops,admin"] {
            assert!(!ops().granted_by(refused), "{refused:?}");
        }
        let auditor = OpsRole { claim: "cognito:groups".into(), role: "auditor".into() };
        assert!(!auditor.granted_by("x,auditor"));
        assert!(auditor.granted_by("[x auditor]"));
    }
}
