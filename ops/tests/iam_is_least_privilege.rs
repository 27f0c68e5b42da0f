//! No function's policy grants wildcards beyond what a service requires: no `*`
//! actions, no `service:*`, and `Resource: "*"` only for actions AWS does not scope
//! to resources.

use std::path::PathBuf;

use local_stack::template::{types, Template};
use serde_json::Value;

/// Actions that do not support resource-level permissions, so `Resource: "*"` is the
/// only way to grant them (AWS's service authorization reference).
const UNSCOPED_ACTIONS: &[&str] = &["cloudwatch:PutMetricData", "xray:PutTraceSegments", "xray:PutTelemetryRecords"];

fn as_list(v: Option<&Value>) -> Vec<Value> {
    match v {
        Some(Value::Array(items)) => items.clone(),
        Some(other) => vec![other.clone()],
        None => Vec::new(),
    }
}

fn over_broad(t: &Template) -> Vec<String> {
    let mut problems = Vec::new();
    for f in t.resources_of(types::SERVERLESS_FUNCTION) {
        let props = t.function_properties(f);
        for policy in as_list(props.get("Policies")) {
            let Some(statements) = policy.get("Statement") else {
                // A SAM policy template or managed policy by name: must be one we know.
                problems.push(format!("{}: policy {policy} is not an inline statement list", f.logical_id));
                continue;
            };
            for st in as_list(Some(statements)) {
                if st.get("Effect").and_then(Value::as_str) != Some("Allow") {
                    continue;
                }
                let actions: Vec<String> =
                    as_list(st.get("Action")).iter().filter_map(|a| a.as_str().map(str::to_owned)).collect();
                for a in &actions {
                    if a.contains('*') {
                        problems.push(format!("{}: wildcard action {a}", f.logical_id));
                    }
                }
                for r in as_list(st.get("Resource")) {
                    if r.as_str() == Some("*") {
                        for a in actions.iter().filter(|a| !UNSCOPED_ACTIONS.contains(&a.as_str())) {
                            problems.push(format!("{}: {a} on every resource (Resource: \"*\")", f.logical_id));
                        }
                    }
                }
            }
        }
    }
    problems
}

#[test]
fn no_policy_grants_more_than_its_function_needs() {
    let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let t = Template::load(&root.join("infra/template.yaml")).unwrap();
    let problems = over_broad(&t);
    assert!(problems.is_empty(), "over-broad IAM:\n  {}", problems.join("\n  "));
}

#[test]
fn the_check_catches_wildcards() {
    let t = Template::parse(
        r#"
Resources:
  F:
    Type: AWS::Serverless::Function
    Properties:
      Policies:
        - Statement:
            - Effect: Allow
              Action: [dynamodb:PutItem, "sqs:*"]
              Resource: "*"
            - Effect: Allow
              Action: cloudwatch:PutMetricData
              Resource: "*"
"#,
    )
    .unwrap();
    let problems = over_broad(&t);
    assert_eq!(problems.len(), 3, "{problems:?}");
}

#[test]
fn the_audit_table_is_append_only_for_every_function() {
    // Issue 6: no function may update or delete audit records. Vacuous until the
    // audit table exists; then it names every function that could rewrite history.
    let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let t = Template::load(&root.join("infra/template.yaml")).unwrap();
    let audit_tables: Vec<&str> = t
        .resources_of(types::DYNAMODB_TABLE)
        .map(|r| r.logical_id.as_str())
        .filter(|id| id.to_ascii_lowercase().contains("audit"))
        .collect();
    for f in t.resources_of(types::SERVERLESS_FUNCTION) {
        let text = t.function_properties(f).get("Policies").map(Value::to_string).unwrap_or_default();
        for table in &audit_tables {
            if !text.contains(table) {
                continue;
            }
            for policy in as_list(t.function_properties(f).get("Policies")) {
                for st in as_list(policy.get("Statement")) {
                    if !st.get("Resource").map(Value::to_string).unwrap_or_default().contains(table) {
                        continue;
                    }
                    for a in as_list(st.get("Action")) {
                        let a = a.as_str().unwrap_or_default();
                        assert!(
                            !["dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"].contains(&a),
                            "{} may {a} on {table}",
                            f.logical_id
                        );
                    }
                }
            }
        }
    }
}
