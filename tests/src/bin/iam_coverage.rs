//! `iam-coverage LEDGER_DIR OUT.md`: for every function of the template, the
//! AWS operations its code can issue beside those the test suite ran under IAM
//! enforcement. An operation neither exercised nor listed, with its reason, in
//! `tests/iam_not_exercised.json` fails the run.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::ExitCode;

use integration_tests::iam_coverage::{function_operations, read_ledgers, Found};
use integration_tests::workspace_root;
use local_stack::template::{types, Template};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(ledgers), Some(out)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: iam-coverage LEDGER_DIR OUT.md");
        return ExitCode::from(2);
    };
    let root = workspace_root();
    let template = match Template::load(&root.join("infra/template.yaml")) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("iam-coverage: {e}");
            return ExitCode::FAILURE;
        }
    };
    let reasons: BTreeMap<String, BTreeMap<String, String>> =
        std::fs::read_to_string(root.join("tests/iam_not_exercised.json"))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default();
    let seen = read_ledgers(std::path::Path::new(ledgers));
    let mut report = String::from(
        "# AWS operations under IAM enforcement\n\nWritten by `make test` (`tests/src/bin/iam_coverage.rs`): for each function, every AWS operation its code can issue (a source scan) and how often the test suite's stacks made it under IAM enforcement, allowed and refused (refusals include the tests that remove a grant on purpose). An operation the suite never ran is listed with its reason from `tests/iam_not_exercised.json`.\n\n| function | operation | allowed | refused | note |\n|---|---|---:|---:|---|\n",
    );
    let mut missing = Vec::new();
    let (mut pairs, mut exercised) = (0, 0);
    for resource in template.resources_of(types::SERVERLESS_FUNCTION) {
        let id = &resource.logical_id;
        let binary = resource.metadata.pointer("/BuildProperties/Binary").and_then(|v| v.as_str()).unwrap_or(id);
        let calls = seen.get(id).cloned().unwrap_or_default();
        let mut operations = function_operations(&root, binary);
        for operation in calls.keys() {
            operations.entry(operation.clone()).or_default();
        }
        for (operation, found) in operations {
            pairs += 1;
            let (allowed, refused) = calls.get(&operation).copied().unwrap_or((0, 0));
            let shared: Vec<&str> = found
                .iter()
                .filter_map(|f| match f {
                    Found::Shared(file) => Some(file.as_str()),
                    Found::Own => None,
                })
                .collect();
            let note = if allowed > 0 {
                exercised += 1;
                String::new()
            } else if let Some(reason) = reasons.get(binary).and_then(|r| r.get(&operation)) {
                format!("not exercised: {reason}")
            } else if !found.contains(&Found::Own) && !shared.is_empty() {
                // A shared adapter's call: the scan cannot tell whether this function is the one that makes it.
                format!(
                    "not exercised: found only in shared code ({}), which other functions may be the ones to call",
                    shared.join(", ")
                )
            } else {
                missing.push(format!("{binary} {operation}"));
                "**not exercised, no reason given**".to_owned()
            };
            let _ = writeln!(report, "| {binary} | {operation} | {allowed} | {refused} | {note} |");
        }
    }
    let _ = writeln!(report, "\n{exercised} of {pairs} (function, operation) pairs exercised.");
    if let Err(e) = std::fs::write(out, &report) {
        eprintln!("iam-coverage: cannot write {out}: {e}");
        return ExitCode::FAILURE;
    }
    println!("iam-coverage: {exercised} of {pairs} (function, operation) pairs exercised under IAM enforcement; report in {out}");
    if missing.is_empty() {
        ExitCode::SUCCESS
    } else {
        eprintln!(
            "iam-coverage: not exercised and no reason in tests/iam_not_exercised.json:\n  {}",
            missing.join("\n  ")
        );
        ExitCode::FAILURE
    }
}
