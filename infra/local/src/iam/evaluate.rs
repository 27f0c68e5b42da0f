//! Policy evaluation as AWS does it within one account: an explicit Deny in
//! any applicable policy wins; otherwise an Allow in the caller's identity
//! policies or in the resource's policy (naming the caller) allows; otherwise
//! the request is implicitly denied.

use std::collections::BTreeMap;

use super::policy::{Condition, Effect, Matcher, PrincipalPattern, SetOperator, Statement};

/// Condition keys and their values for one request. Keys are compared
/// case-insensitively, as AWS does; store them lower-cased.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConditionContext(BTreeMap<String, Vec<String>>);

impl ConditionContext {
    pub fn with(mut self, key: &str, values: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.set(key, values);
        self
    }

    pub fn set(&mut self, key: &str, values: impl IntoIterator<Item = impl Into<String>>) {
        self.0.insert(key.to_ascii_lowercase(), values.into_iter().map(Into::into).collect());
    }

    fn get(&self, key: &str) -> Option<&[String]> {
        self.0.get(&key.to_ascii_lowercase()).map(Vec::as_slice)
    }
}

/// Who is calling: the role's ARN (what policies name) and the session ARN
/// (what error messages name, as `assumed-role/ROLE/SESSION`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub role_arn: String,
    pub session_arn: String,
    pub account: String,
}

const PRINCIPAL_ARN: &str = "aws:PrincipalArn";
const PRINCIPAL_ACCOUNT: &str = "aws:PrincipalAccount";

/// One authorization question: may the caller do `action` on `resource`?
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// `service:Operation`, e.g. `dynamodb:GetItem`.
    pub action: String,
    /// The resource ARN (or `*` for actions without resource-level permissions).
    pub resource: String,
    pub context: ConditionContext,
}

impl Check {
    pub fn new(action: impl Into<String>, resource: impl Into<String>) -> Self {
        Self { action: action.into(), resource: resource.into(), context: ConditionContext::default() }
    }

    pub fn with(mut self, key: &str, values: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.context.set(key, values);
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// Denied by a Deny statement (its origin), in an identity or resource policy.
    ExplicitDeny {
        origin: String,
        in_resource_policy: bool,
    },
    /// No statement allows it.
    ImplicitDeny,
}

impl Decision {
    pub fn allowed(&self) -> bool {
        matches!(self, Decision::Allow)
    }

    /// The end of AWS's AccessDenied message ("because ...").
    pub fn reason(&self, action: &str) -> String {
        match self {
            Decision::Allow => "allowed".to_owned(),
            Decision::ExplicitDeny { origin, in_resource_policy: true } => {
                format!("with an explicit deny in a resource-based policy ({origin})")
            }
            Decision::ExplicitDeny { origin, in_resource_policy: false } => {
                format!("with an explicit deny in an identity-based policy ({origin})")
            }
            Decision::ImplicitDeny => format!("because no identity-based policy allows the {action} action"),
        }
    }
}

/// Evaluates one check against the caller's identity policies and the
/// resource's policy (empty when it has none).
pub fn evaluate(identity: &[Statement], resource_policy: &[Statement], caller: &Caller, check: &Check) -> Decision {
    let with_globals;
    let check = if check.context.get(PRINCIPAL_ARN).is_none() {
        // Global keys every request carries: for a role session, the role's ARN.
        with_globals = check
            .clone()
            .with(PRINCIPAL_ARN, [caller.role_arn.clone()])
            .with(PRINCIPAL_ACCOUNT, [caller.account.clone()]);
        &with_globals
    } else {
        check
    };
    let mut allowed = false;
    for statement in identity {
        if applies(statement, check) {
            match statement.effect {
                Effect::Deny => {
                    return Decision::ExplicitDeny { origin: statement.origin.clone(), in_resource_policy: false }
                }
                Effect::Allow => allowed = true,
            }
        }
    }
    for statement in resource_policy {
        if !applies(statement, check) {
            continue;
        }
        match statement.effect {
            Effect::Deny if names(statement, caller, Effect::Deny) => {
                return Decision::ExplicitDeny { origin: statement.origin.clone(), in_resource_policy: true }
            }
            Effect::Allow if names(statement, caller, Effect::Allow) => allowed = true,
            _ => {}
        }
    }
    if allowed {
        Decision::Allow
    } else {
        Decision::ImplicitDeny
    }
}

/// Whether a statement covers the check's action, resource and conditions
/// (its principal aside).
pub fn applies(statement: &Statement, check: &Check) -> bool {
    let action_matches = match &statement.actions {
        Matcher::Is(patterns) => patterns.iter().any(|p| glob(p, &check.action, true)),
        Matcher::Not(patterns) => !patterns.iter().any(|p| glob(p, &check.action, true)),
    };
    let resource_matches = match &statement.resources {
        None => true,
        Some(Matcher::Is(patterns)) => patterns.iter().any(|p| glob(p, &check.resource, false)),
        Some(Matcher::Not(patterns)) => !patterns.iter().any(|p| glob(p, &check.resource, false)),
    };
    action_matches && resource_matches && statement.conditions.iter().all(|c| holds(c, &check.context))
}

/// Whether a resource-policy statement's principal names the caller. The
/// account (`123456789012` or `arn:aws:iam::123456789012:root`) in an Allow
/// only delegates to IAM, so it grants nothing by itself; in a Deny it
/// covers every principal of the account.
fn names(statement: &Statement, caller: &Caller, effect: Effect) -> bool {
    let one = |p: &PrincipalPattern| match p {
        PrincipalPattern::Anyone => true,
        PrincipalPattern::Aws(name) => {
            let account_root = format!("arn:aws:iam::{}:root", caller.account);
            if name == &caller.account || name == &account_root {
                effect == Effect::Deny
            } else {
                glob(name, &caller.role_arn, false) || glob(name, &caller.session_arn, false)
            }
        }
        PrincipalPattern::Service(_) | PrincipalPattern::Other(_) => false,
    };
    match &statement.principals {
        None => false,
        Some(Matcher::Is(list)) => list.iter().any(one),
        Some(Matcher::Not(list)) => !list.iter().any(one),
    }
}

fn negated(operator: &str) -> bool {
    operator.contains("Not")
}

fn holds(condition: &Condition, context: &ConditionContext) -> bool {
    let present = context.get(&condition.key);
    if condition.operator == "Null" {
        let want_absent = condition.values.iter().any(|v| v.eq_ignore_ascii_case("true"));
        return want_absent == present.is_none_or(<[String]>::is_empty);
    }
    let values = match present {
        Some(values) if !values.is_empty() => values,
        // AWS: an absent key matches nothing, so a negated operator holds;
        // `IfExists` makes an absent key hold; `ForAllValues` holds on an empty set.
        _ => {
            return condition.if_exists
                || condition.set == SetOperator::ForAllValues
                || (condition.set == SetOperator::Single && negated(&condition.operator))
        }
    };
    let positive = condition.operator.replace("Not", "");
    let matches_one = |value: &String| condition.values.iter().any(|p| compare(&positive, p, value));
    let positive_result = match condition.set {
        SetOperator::ForAllValues => values.iter().all(matches_one),
        SetOperator::Single | SetOperator::ForAnyValue => values.iter().any(matches_one),
    };
    positive_result != negated(&condition.operator)
}

fn compare(operator: &str, pattern: &str, value: &str) -> bool {
    match operator {
        "StringEquals" => pattern == value,
        "StringEqualsIgnoreCase" => pattern.eq_ignore_ascii_case(value),
        "StringLike" | "ArnEquals" | "ArnLike" => glob(pattern, value, false),
        "Bool" => pattern.eq_ignore_ascii_case(value),
        _ => false,
    }
}

/// `*` matches any run of characters, `?` any one character. Compared
/// byte by byte without allocating (it runs for every statement of every
/// call); ARNs and actions are ASCII, and a `?` facing a multi-byte
/// character matches one of its bytes, where IAM would match the character.
pub fn glob(pattern: &str, text: &str, ignore_case: bool) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let same = |a: u8, b: u8| if ignore_case { a.eq_ignore_ascii_case(&b) } else { a == b };
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == b'?' || same(p[pi], t[ti])) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::super::policy::parse_document;
    use super::*;
    use serde_json::json;

    fn caller() -> Caller {
        Caller {
            role_arn: "arn:aws:iam::123456789012:role/s-RecordLoginRole".into(),
            session_arn: "arn:aws:sts::123456789012:assumed-role/s-RecordLoginRole/s-record-login".into(),
            account: "123456789012".into(),
        }
    }

    fn policy(statements: serde_json::Value) -> Vec<Statement> {
        parse_document("test", &json!({ "Statement": statements })).unwrap()
    }

    const TABLE: &str = "arn:aws:dynamodb:eu-west-2:123456789012:table/s-activity";

    #[test]
    fn globs_match_as_iam_does() {
        assert!(glob("*", "anything", false));
        assert!(glob("dynamodb:*Item", "dynamodb:GetItem", true));
        assert!(glob("DynamoDB:getitem", "dynamodb:GetItem", true));
        assert!(!glob("arn:aws:s3:::B/*", "arn:aws:s3:::b/x", false));
        assert!(glob(
            "arn:aws:secretsmanager:r:1:secret:name-??????",
            "arn:aws:secretsmanager:r:1:secret:name-AbC123",
            false
        ));
        assert!(!glob(
            "arn:aws:secretsmanager:r:1:secret:name-??????",
            "arn:aws:secretsmanager:r:1:secret:name-other-AbC123",
            false
        ));
        assert!(glob("a*b*c", "aXXbYYc", false));
        assert!(!glob("a*b*c", "aXXbYY", false));
    }

    #[test]
    fn allow_needs_both_action_and_resource() {
        let identity = policy(json!([{"Effect": "Allow", "Action": ["dynamodb:PutItem"], "Resource": TABLE}]));
        assert!(evaluate(&identity, &[], &caller(), &Check::new("dynamodb:PutItem", TABLE)).allowed());
        let get = evaluate(&identity, &[], &caller(), &Check::new("dynamodb:GetItem", TABLE));
        assert_eq!(get, Decision::ImplicitDeny);
        assert!(get.reason("dynamodb:GetItem").contains("no identity-based policy allows the dynamodb:GetItem"));
        let index = format!("{TABLE}/index/by-time");
        assert!(!evaluate(&identity, &[], &caller(), &Check::new("dynamodb:PutItem", &index)).allowed());
    }

    #[test]
    fn explicit_deny_wins_and_not_resource_scopes_it() {
        let identity = policy(json!([
            {"Effect": "Allow", "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage"], "Resource": "*"},
            {"Sid": "OwnQueueOnly", "Effect": "Deny", "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage"],
             "NotResource": "arn:aws:sqs:eu-west-2:123456789012:s-login-events"}
        ]));
        let own = Check::new("sqs:ReceiveMessage", "arn:aws:sqs:eu-west-2:123456789012:s-login-events");
        assert!(evaluate(&identity, &[], &caller(), &own).allowed());
        let other = Check::new("sqs:DeleteMessage", "arn:aws:sqs:eu-west-2:123456789012:approval-decisions.fifo");
        let decision = evaluate(&identity, &[], &caller(), &other);
        assert!(
            matches!(&decision, Decision::ExplicitDeny { origin, in_resource_policy: false } if origin.contains("OwnQueueOnly"))
        );
    }

    #[test]
    fn not_action_allows_everything_else() {
        let identity = policy(json!([{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]));
        assert!(evaluate(&identity, &[], &caller(), &Check::new("sqs:SendMessage", "x")).allowed());
        assert!(!evaluate(&identity, &[], &caller(), &Check::new("iam:PassRole", "x")).allowed());
    }

    #[test]
    fn a_resource_policy_deny_for_everyone_beats_an_identity_allow() {
        let identity = policy(json!([{"Effect": "Allow", "Action": "dynamodb:*", "Resource": TABLE}]));
        let resource = parse_document(
            "AuditTable ResourcePolicy",
            &json!({"Statement": [{"Sid": "AppendOnly", "Effect": "Deny", "Principal": "*",
                "Action": ["dynamodb:UpdateItem", "dynamodb:DeleteItem"], "Resource": "*"}]}),
        )
        .unwrap();
        assert!(evaluate(&identity, &resource, &caller(), &Check::new("dynamodb:PutItem", TABLE)).allowed());
        let delete = evaluate(&identity, &resource, &caller(), &Check::new("dynamodb:DeleteItem", TABLE));
        assert!(matches!(delete, Decision::ExplicitDeny { in_resource_policy: true, .. }));
    }

    #[test]
    fn a_resource_policy_allows_only_the_principals_it_names() {
        let queue = "arn:aws:sqs:eu-west-2:123456789012:q";
        let service_only = parse_document(
            "QueuePolicy",
            &json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage", "Resource": queue}]}),
        )
        .unwrap();
        assert!(!evaluate(&[], &service_only, &caller(), &Check::new("sqs:SendMessage", queue)).allowed());
        let root = parse_document(
            "QueuePolicy",
            &json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sqs:*", "Resource": queue}]}),
        )
        .unwrap();
        assert!(
            !evaluate(&[], &root, &caller(), &Check::new("sqs:SendMessage", queue)).allowed(),
            "root only delegates"
        );
        let named = parse_document(
            "QueuePolicy",
            &json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": caller().role_arn}, "Action": "sqs:*", "Resource": queue}]}),
        )
        .unwrap();
        assert!(evaluate(&[], &named, &caller(), &Check::new("sqs:SendMessage", queue)).allowed());
    }

    #[test]
    fn conditions_hold_as_aws_evaluates_them() {
        let identity = policy(json!([{"Effect": "Allow", "Action": "ses:SendEmail", "Resource": "*",
            "Condition": {"StringEquals": {"ses:FromAddress": "approvals@example.gov.uk"}}}]));
        let send = |from: Option<&str>| {
            let mut check =
                Check::new("ses:SendEmail", "arn:aws:ses:eu-west-2:123456789012:identity/approvals@example.gov.uk");
            if let Some(from) = from {
                check = check.with("SES:FromAddress", [from]);
            }
            evaluate(&identity, &[], &caller(), &check).allowed()
        };
        assert!(send(Some("approvals@example.gov.uk")));
        assert!(!send(Some("someone@example.gov.uk")));
        assert!(!send(None), "an absent key matches nothing");

        let tls = policy(json!([{"Effect": "Deny", "Action": "s3:*", "Resource": "*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]));
        let plain = Check::new("s3:GetObject", "arn:aws:s3:::b/k").with("aws:SecureTransport", ["false"]);
        assert!(matches!(evaluate(&tls, &[], &caller(), &plain), Decision::ExplicitDeny { .. }));
        let secure = Check::new("s3:GetObject", "arn:aws:s3:::b/k").with("aws:SecureTransport", ["true"]);
        assert_eq!(evaluate(&tls, &[], &caller(), &secure), Decision::ImplicitDeny);
    }

    #[test]
    fn negated_operators_hold_on_absent_keys_and_if_exists_and_sets() {
        let c = |op: &str, set: SetOperator, if_exists: bool, values: &[&str]| Condition {
            operator: op.into(),
            if_exists,
            set,
            key: "k".into(),
            values: values.iter().map(|v| v.to_string()).collect(),
        };
        let empty = ConditionContext::default();
        assert!(holds(&c("StringNotEquals", SetOperator::Single, false, &["a"]), &empty));
        assert!(!holds(&c("StringEquals", SetOperator::Single, false, &["a"]), &empty));
        assert!(holds(&c("StringEquals", SetOperator::Single, true, &["a"]), &empty));
        assert!(holds(&c("Null", SetOperator::Single, false, &["true"]), &empty));
        let two = ConditionContext::default().with("K", ["a@gov.uk", "b@example.com"]);
        assert!(holds(&c("StringLike", SetOperator::ForAnyValue, false, &["*@gov.uk"]), &two));
        assert!(!holds(&c("StringLike", SetOperator::ForAllValues, false, &["*@gov.uk"]), &two));
        assert!(holds(&c("StringLike", SetOperator::ForAllValues, false, &["*@gov.uk"]), &empty));
        assert!(!holds(
            &c("ArnNotLike", SetOperator::Single, false, &["arn:*"]),
            &ConditionContext::default().with("k", ["arn:x"])
        ));
    }
}
