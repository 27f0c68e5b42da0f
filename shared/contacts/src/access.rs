//! Who may read the contacts: a verified token whose role claim names the
//! operations role. API Gateway hands every claim over as a string, a list claim
//! rendered `[ops admin]`, so the claim's text is what is read here.

/// The claim that carries roles, and the role the contacts API requires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpsRole {
    pub claim: String,
    pub role: String,
}

impl OpsRole {
    /// Plain, comma- or space-separated, `[a b]` and JSON-array forms are all read;
    /// only the exact role name grants (never a longer name containing it).
    pub fn granted_by(&self, value: &str) -> bool {
        value
            .split(|c: char| c == ',' || c.is_whitespace() || c == '[' || c == ']')
            .map(|r| r.trim_matches('"'))
            .any(|r| r == self.role)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_forms_a_role_claim_arrives_in() {
        let ops = OpsRole { claim: "roles".into(), role: "ops".into() };
        for granted in ["ops", "[ops]", "[admin ops]", "admin,ops", r#"["admin","ops"]"#] {
            assert!(ops.granted_by(granted), "{granted}");
        }
        for refused in ["", "[]", "operations", "devops", "[admin]"] {
            assert!(!ops.granted_by(refused), "{refused}");
        }
    }
}
