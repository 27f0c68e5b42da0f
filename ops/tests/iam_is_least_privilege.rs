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

/// Effective permissions, not only inline statements: what each function's
/// role allows once SAM has attached its managed policies
/// (`AWSLambdaBasicExecutionRole`, `AWSLambdaSQSQueueExecutionRole`, both on
/// every resource) and the template's Deny guardrails narrowed them, as the
/// local stack's IAM evaluator decides it.
mod effective {
    use std::collections::BTreeSet;

    use local_stack::iam::{Check, Principal};
    use local_stack::template::types;
    use local_stack::{LocalStack, StackOptions, Template};
    use serde_json::Value;

    async fn stack() -> LocalStack {
        let root = local_stack::find_workspace_root();
        let options =
            StackOptions::for_workspace(root).without_functions().without_pollers().without_schedules().quiet();
        LocalStack::start(options).await.unwrap_or_else(|e| panic!("local stack did not start: {e}"))
    }

    /// The queues a function's SQS events read, by logical id.
    fn event_queues(t: &Template, function: &str) -> BTreeSet<String> {
        let props = t.function_properties(&t.resources[function]);
        props
            .get("Events")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter_map(|(_, e)| e.pointer("/Properties/Queue/Fn::GetAtt/0").and_then(Value::as_str).map(str::to_owned))
            .collect()
    }

    fn allowed(stack: &LocalStack, principal: &Principal, action: &str, resource: &str) -> bool {
        stack.authorizer().expect("IAM on").decide(principal, &Check::new(action, resource)).allowed()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn each_function_reads_only_its_own_queue_and_writes_only_its_own_log_group() {
        let stack = stack().await;
        let root = local_stack::find_workspace_root();
        let t = Template::load(&root.join("infra/template.yaml")).unwrap();
        let authorizer = stack.authorizer().expect("IAM on");
        let queues: Vec<(String, String)> = stack
            .provisioned()
            .of_kind(types::SQS_QUEUE)
            .map(|q| (q.logical_id.clone(), q.arn.clone().expect("queue ARN")))
            .collect();
        let log_groups: Vec<(String, String)> =
            stack.provisioned().of_kind(types::LOG_GROUP).map(|g| (g.logical_id.clone(), g.name.clone())).collect();
        assert!(queues.iter().any(|(id, _)| id == "ApprovalDecisionsQueue"), "the FIFO queue is among those checked");
        let mut problems = Vec::new();
        let mut functions = 0;
        for principal in authorizer.principals().filter(|p| p.is_function) {
            functions += 1;
            let own = event_queues(&t, &principal.logical_id);
            for (queue, arn) in &queues {
                for action in ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"] {
                    if allowed(&stack, principal, action, arn) != own.contains(queue) {
                        problems.push(format!(
                            "{}: {action} on {queue} is {}",
                            principal.logical_id,
                            !own.contains(queue)
                        ));
                    }
                }
            }
            let own_group = t
                .function_properties(&t.resources[&principal.logical_id])
                .pointer("/LoggingConfig/LogGroup/Ref")
                .and_then(Value::as_str)
                .map(str::to_owned);
            for (group, name) in &log_groups {
                let ctx = stack.context();
                let stream = format!("arn:aws:logs:{}:{}:log-group:{name}:log-stream:s", ctx.region, ctx.account_id);
                let mine = own_group.as_deref() == Some(group.as_str());
                if allowed(&stack, principal, "logs:PutLogEvents", &stream) != mine {
                    problems.push(format!("{}: logs:PutLogEvents on {group} is {}", principal.logical_id, !mine));
                }
            }
        }
        assert_eq!(functions, t.resources_of(types::SERVERLESS_FUNCTION).count(), "every function has a principal");
        assert!(problems.is_empty(), "effective permissions beyond the function's own:\n  {}", problems.join("\n  "));
        stack.shutdown().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_function_can_rewrite_or_remove_audit_records() {
        let stack = stack().await;
        let table = stack.provisioned().table_arn("AuditTable").expect("audit table").to_owned();
        let authorizer = stack.authorizer().expect("IAM on");
        for principal in authorizer.principals() {
            for action in
                ["dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:PartiQLUpdate", "dynamodb:PartiQLDelete"]
            {
                assert!(
                    !allowed(&stack, principal, action, &table),
                    "{} may {action} on the audit table",
                    principal.name
                );
            }
        }
        stack.shutdown().await;
    }
}
