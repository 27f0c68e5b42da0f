//! The policies the local stack enforces are the ones SAM deploys: for every
//! function of the shipped template, the managed policies and inline policies
//! (with their statement counts) of the local expansion equal
//! `aws-sam-translator`'s (`infra/local/sam_policies.py`).

mod common;

use std::collections::BTreeMap;

use local_stack::{find_workspace_root, LocalStack};
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_local_expansion_of_every_role_matches_sams() {
    let Some(options) = common::options_or_skip("the_local_expansion_of_every_role_matches_sams") else { return };
    let root = find_workspace_root();
    let template = root.join("infra/template.yaml");
    let python = options.venv.join("bin/python");
    let out = std::process::Command::new(&python)
        .arg(root.join("infra/local/sam_policies.py"))
        .arg(&template)
        .output()
        .expect("run sam_policies.py");
    assert!(out.status.success(), "sam_policies.py: {}", String::from_utf8_lossy(&out.stderr));
    let sam: Value = serde_json::from_slice(&out.stdout).expect("JSON from sam_policies.py");

    let stack =
        LocalStack::start(options.with_template(&template).without_functions().without_pollers().without_schedules())
            .await
            .expect("stack");
    let mut local = serde_json::Map::new();
    for principal in stack.authorizer().expect("IAM on").principals().filter(|p| p.is_function) {
        let mut managed = Vec::new();
        let mut inline: BTreeMap<String, u64> = BTreeMap::new();
        for statement in &principal.statements {
            let name = statement.origin.split(' ').next().unwrap_or_default().to_owned();
            if name.starts_with("AWSLambda") {
                if !managed.contains(&name) {
                    managed.push(name);
                }
            } else {
                *inline.entry(name).or_default() += 1;
            }
        }
        managed.sort();
        local.insert(principal.logical_id.clone(), json!({"managed": managed, "inline": inline}));
    }
    stack.shutdown().await;
    assert_eq!(Value::Object(local), sam, "local role expansion (left) differs from SAM's (right)");
}
