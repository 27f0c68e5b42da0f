//! IAM policy documents as AWS reads them: statements with `Effect`,
//! `Action`/`NotAction`, `Resource`/`NotResource`, `Principal`/`NotPrincipal`
//! and `Condition`, where every list may also be a single string.

use serde_json::Value;

/// Why a policy document could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("{0}: policy has no Statement")]
    NoStatement(String),
    #[error("{origin}: statement {index}: {reason}")]
    Statement { origin: String, index: usize, reason: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

/// `Action: [...]` or `NotAction: [...]` (and the same for resources and principals).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Matcher<T> {
    Is(Vec<T>),
    Not(Vec<T>),
}

/// Who a resource-policy statement is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalPattern {
    /// `"*"` or `{"AWS": "*"}`: everyone.
    Anyone,
    /// `{"AWS": "arn:..."}` or an account id.
    Aws(String),
    /// `{"Service": "sns.amazonaws.com"}`: a service, never a role or user.
    Service(String),
    /// `{"Federated": ...}` or `{"CanonicalUser": ...}`: never one of ours.
    Other(String),
}

/// One condition: `{"StringEquals": {"ses:FromAddress": ["a@b"]}}` is
/// operator `StringEquals`, key `ses:FromAddress`, values `["a@b"]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// The operator without its `ForAnyValue:`/`ForAllValues:` prefix or `IfExists` suffix.
    pub operator: String,
    pub if_exists: bool,
    pub set: SetOperator,
    pub key: String,
    pub values: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetOperator {
    /// A single-valued key.
    Single,
    ForAnyValue,
    ForAllValues,
}

/// The operators the local evaluator knows; any other refuses the template
/// at start (never silently ignored).
pub const OPERATORS: &[&str] = &[
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
    "ArnEquals",
    "ArnLike",
    "ArnNotEquals",
    "ArnNotLike",
    "Bool",
    "Null",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// Where the statement came from (policy name and Sid), for messages.
    pub origin: String,
    pub effect: Effect,
    pub actions: Matcher<String>,
    /// `None` in resource policies that omit `Resource` (the resource itself).
    pub resources: Option<Matcher<String>>,
    /// `None` in identity policies.
    pub principals: Option<Matcher<PrincipalPattern>>,
    pub conditions: Vec<Condition>,
}

/// The statements of one resolved policy document (`{"Statement": ...}`).
pub fn parse_document(origin: &str, document: &Value) -> Result<Vec<Statement>, PolicyError> {
    let statements = match document.get("Statement") {
        Some(Value::Array(items)) => items.iter().collect::<Vec<_>>(),
        Some(single @ Value::Object(_)) => vec![single],
        _ => return Err(PolicyError::NoStatement(origin.to_owned())),
    };
    statements.into_iter().enumerate().map(|(index, s)| parse_statement(origin, index, s)).collect()
}

fn parse_statement(origin: &str, index: usize, value: &Value) -> Result<Statement, PolicyError> {
    let bad = |reason: String| PolicyError::Statement { origin: origin.to_owned(), index, reason };
    let effect = match value.get("Effect").and_then(Value::as_str) {
        Some("Allow") => Effect::Allow,
        Some("Deny") => Effect::Deny,
        other => return Err(bad(format!("Effect must be Allow or Deny, not {other:?}"))),
    };
    let actions =
        either(value, "Action", "NotAction").map_err(bad)?.ok_or_else(|| bad("no Action or NotAction".to_owned()))?;
    let resources = either(value, "Resource", "NotResource").map_err(bad)?;
    let principals = match (value.get("Principal"), value.get("NotPrincipal")) {
        (Some(p), None) => Some(Matcher::Is(principals(p).map_err(bad)?)),
        (None, Some(p)) => Some(Matcher::Not(principals(p).map_err(bad)?)),
        (None, None) => None,
        (Some(_), Some(_)) => return Err(bad("both Principal and NotPrincipal".to_owned())),
    };
    let conditions = match value.get("Condition") {
        None => Vec::new(),
        Some(block) => conditions(block).map_err(bad)?,
    };
    let sid = value.get("Sid").and_then(Value::as_str);
    Ok(Statement {
        origin: sid.map_or_else(|| format!("{origin} statement {index}"), |sid| format!("{origin} ({sid})")),
        effect,
        actions,
        resources,
        principals,
        conditions,
    })
}

fn either(value: &Value, is: &str, not: &str) -> Result<Option<Matcher<String>>, String> {
    match (value.get(is), value.get(not)) {
        (Some(v), None) => Ok(Some(Matcher::Is(strings(v).ok_or_else(|| format!("{is} is not a string list"))?))),
        (None, Some(v)) => Ok(Some(Matcher::Not(strings(v).ok_or_else(|| format!("{not} is not a string list"))?))),
        (None, None) => Ok(None),
        (Some(_), Some(_)) => Err(format!("both {is} and {not}")),
    }
}

/// A string, number or boolean, or a list of them, as strings.
pub fn strings(value: &Value) -> Option<Vec<String>> {
    match value {
        Value::Array(items) => items.iter().map(scalar).collect(),
        other => scalar(other).map(|s| vec![s]),
    }
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn principals(value: &Value) -> Result<Vec<PrincipalPattern>, String> {
    if value.as_str() == Some("*") {
        return Ok(vec![PrincipalPattern::Anyone]);
    }
    let map = value.as_object().ok_or("Principal must be \"*\" or a map")?;
    let mut out = Vec::new();
    for (kind, names) in map {
        for name in strings(names).ok_or_else(|| format!("Principal {kind} is not a string list"))? {
            out.push(match (kind.as_str(), name.as_str()) {
                ("AWS", "*") => PrincipalPattern::Anyone,
                ("AWS", _) => PrincipalPattern::Aws(name),
                ("Service", _) => PrincipalPattern::Service(name),
                _ => PrincipalPattern::Other(name),
            });
        }
    }
    Ok(out)
}

fn conditions(block: &Value) -> Result<Vec<Condition>, String> {
    let map = block.as_object().ok_or("Condition must be a map")?;
    let mut out = Vec::new();
    for (full_operator, keys) in map {
        let (set, rest) = if let Some(rest) = full_operator.strip_prefix("ForAnyValue:") {
            (SetOperator::ForAnyValue, rest)
        } else if let Some(rest) = full_operator.strip_prefix("ForAllValues:") {
            (SetOperator::ForAllValues, rest)
        } else {
            (SetOperator::Single, full_operator.as_str())
        };
        let (operator, if_exists) = match rest.strip_suffix("IfExists") {
            Some(base) => (base, true),
            None => (rest, false),
        };
        if !OPERATORS.contains(&operator) {
            return Err(format!(
                "condition operator {full_operator} is not evaluated by the local stack (known: {})",
                OPERATORS.join(", ")
            ));
        }
        let keys = keys.as_object().ok_or_else(|| format!("{full_operator} must map keys to values"))?;
        for (key, values) in keys {
            out.push(Condition {
                operator: operator.to_owned(),
                if_exists,
                set,
                key: key.clone(),
                values: strings(values).ok_or_else(|| format!("{full_operator} {key}: values are not scalars"))?,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn single_strings_and_lists_read_the_same() {
        let doc = json!({"Statement": {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": ["a", "b"]}});
        let statements = parse_document("p", &doc).unwrap();
        assert_eq!(statements[0].actions, Matcher::Is(vec!["sqs:SendMessage".into()]));
        assert_eq!(statements[0].resources, Some(Matcher::Is(vec!["a".into(), "b".into()])));
    }

    #[test]
    fn not_forms_principals_and_conditions_are_read() {
        let doc = json!({"Statement": [{
            "Sid": "Guard", "Effect": "Deny", "Principal": "*", "NotAction": ["s3:Get*"], "NotResource": "x",
            "Condition": {"ForAnyValue:StringLikeIfExists": {"ses:Recipients": ["*@gov.uk"]}, "Bool": {"aws:SecureTransport": false}}
        }]});
        let s = &parse_document("bucket policy", &doc).unwrap()[0];
        assert_eq!(s.origin, "bucket policy (Guard)");
        assert_eq!(s.effect, Effect::Deny);
        assert_eq!(s.principals, Some(Matcher::Is(vec![PrincipalPattern::Anyone])));
        assert!(matches!(s.actions, Matcher::Not(_)));
        let recipients = s.conditions.iter().find(|c| c.key == "ses:Recipients").unwrap();
        assert_eq!(
            (recipients.operator.as_str(), recipients.if_exists, recipients.set),
            ("StringLike", true, SetOperator::ForAnyValue)
        );
        let tls = s.conditions.iter().find(|c| c.key == "aws:SecureTransport").unwrap();
        assert_eq!(tls.values, vec!["false".to_owned()]);
    }

    #[test]
    fn what_the_evaluator_cannot_judge_is_refused_not_ignored() {
        let doc = json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*",
            "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}}]});
        let err = parse_document("p", &doc).unwrap_err().to_string();
        assert!(err.contains("DateGreaterThan"), "{err}");
        assert!(parse_document("p", &json!({"Statement": [{"Effect": "Maybe", "Action": "*"}]})).is_err());
        assert!(parse_document("p", &json!({})).is_err());
    }
}
