//! JWT claims as API Gateway hands them to the functions (every value a string,
//! arrays rendered `[a b]`: the local stack's rendering, `claims_as_strings`),
//! from claim JSON values of any shape. workflow-api's caller and roles, and
//! contacts-api's operations role: no input panics, a role is granted only by its
//! name, and names that are not roles grant nothing.

use std::collections::HashMap;

use audit::claims::ROLE_CLAIMS;
use audit::{Caller, UserId};
use contacts::access::OpsRole;
use local_stack::http_api::jwt::claims_as_strings;
use proptest::prelude::*;
use serde_json::{Map, Value};

use crate::support::text;

/// Names that are not roles, however close: other groups, stems, lookalikes
/// (Cyrillic `а`, a zero-width space), and our role names inside longer ones.
const NOT_ROLES: &[&str] = &[
    "admin",
    "approve",
    "audit",
    "requestor",
    "auditorz",
    "devops",
    "operations",
    "ops-admin",
    "OPS",
    "sub",
    "approvers-group",
    "aуditor",
    "requester\u{200b}",
    "re-quester",
    "auditor_readonly",
    "superapprover",
    "",
];

const ROLE_NAMES: &[&str] =
    &["requester", "Approver", "AUDITORS", "requesters", "approvers", "auditor", "ops", " requester "];

/// A claim naming only `names`: one name, a list, or names joined as people write them.
fn named(names: &'static [&'static str]) -> impl Strategy<Value = Value> + Clone {
    let name = prop::sample::select(names);
    prop_oneof![
        name.clone().prop_map(Value::from),
        prop::collection::vec(name.clone().prop_map(Value::from), 0..5).prop_map(Value::Array),
        prop::collection::vec((name, prop::sample::select(vec![" ", ",", ", ", "\t"])), 0..5)
            .prop_map(|n| Value::from(n.into_iter().map(|(name, sep)| format!("{name}{sep}")).collect::<String>())),
    ]
}

/// A claim value: names, or any JSON at all.
fn claim_value(names: &'static [&'static str]) -> impl Strategy<Value = Value> + Clone {
    prop_oneof![
        4 => named(names),
        1 => crate::support::json_tree(&["roles", "cognito:groups"]),
        1 => text().prop_map(Value::from),
    ]
}

fn claims(role_claim: impl Strategy<Value = Value> + Clone) -> impl Strategy<Value = Map<String, Value>> {
    let sub = prop_oneof![3 => Just(Value::from("alice")), 2 => text().prop_map(Value::from), 1 => crate::support::json_tree(&["sub"])];
    let scope = claim_value(ROLE_NAMES);
    (proptest::option::of(sub), proptest::option::of(role_claim.clone()), proptest::option::of(role_claim), scope)
        .prop_map(|(sub, roles, groups, scope)| {
            let mut m = Map::new();
            for (k, v) in [("sub", sub), ("roles", roles), ("cognito:groups", groups), ("scope", Some(scope))] {
                if let Some(v) = v {
                    m.insert(k.to_owned(), v);
                }
            }
            m
        })
}

/// The claims as the function's request context holds them.
fn delivered(claims: &Map<String, Value>) -> HashMap<String, String> {
    claims_as_strings(claims).into_iter().map(|(k, v)| (k, v.as_str().unwrap_or_default().to_owned())).collect()
}

proptest! {
    #[test]
    fn any_claims_give_a_caller_whose_roles_are_named(claims in claims(claim_value(ROLE_NAMES))) {
        let delivered = delivered(&claims);
        let caller = Caller::from_claims(&delivered);
        let sub = delivered.get("sub");
        prop_assert_eq!(caller.is_some(), sub.is_some_and(|s| UserId::parse(s).is_ok()));
        if let Some(caller) = caller {
            let role_text: String = ROLE_CLAIMS.iter().filter_map(|c| delivered.get(*c)).map(|v| v.to_ascii_lowercase()).collect();
            for role in caller.roles.to_vec() {
                prop_assert!(role_text.contains(role.as_str()), "{:?} granted by {:?}", role, role_text);
            }
        }
    }

    #[test]
    fn names_that_are_not_roles_grant_nothing(claims in claims(named(NOT_ROLES))) {
        let mut delivered = delivered(&claims);
        delivered.insert("sub".into(), "alice".into());
        let caller = Caller::from_claims(&delivered).unwrap();
        prop_assert!(caller.roles.to_vec().is_empty(), "{:?} granted by {:?}", caller.roles, delivered);
        let ops = OpsRole { claim: "roles".into(), role: "ops".into() };
        prop_assert!(!delivered.get("roles").is_some_and(|v| ops.granted_by(v)), "ops granted by {:?}", delivered);
    }

    #[test]
    fn the_ops_role_is_granted_only_by_its_name(value in claim_value(ROLE_NAMES)) {
        let claims: Map<String, Value> = [("roles".to_owned(), value)].into_iter().collect();
        let text = delivered(&claims).remove("roles").unwrap_or_default();
        let ops = OpsRole { claim: "roles".into(), role: "ops".into() };
        if ops.granted_by(&text) {
            prop_assert!(text.contains("ops"), "granted by {:?}", text);
        }
    }
}
