//! Which AWS operations each function's code can issue, found in its source,
//! beside the (function, operation) pairs the test suite ran under IAM
//! enforcement (the stacks' ledgers): the report `make test` writes.
//!
//! The code side is a source scan, not a type-checked call graph: a function's
//! own crate, plus the files of the shared crates it names in `use` lines or
//! whose types it constructs (`Type::new`), read for SDK fluent calls
//! (`.get_item()`) of the services those files import.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

/// An SDK's fluent method and the operation it sends.
type Method = (&'static str, &'static str);

/// SDK crate → (the ledger's service name, its fluent methods → operation).
const SERVICES: &[(&str, &str, &[Method])] = &[
    (
        "aws_sdk_dynamodb",
        "dynamodb",
        &[
            ("get_item", "GetItem"),
            ("put_item", "PutItem"),
            ("update_item", "UpdateItem"),
            ("delete_item", "DeleteItem"),
            ("query", "Query"),
            ("scan", "Scan"),
            ("batch_get_item", "BatchGetItem"),
            ("batch_write_item", "BatchWriteItem"),
            ("transact_write_items", "TransactWriteItems"),
            ("transact_get_items", "TransactGetItems"),
        ],
    ),
    (
        "aws_sdk_sqs",
        "sqs",
        &[
            ("send_message", "SendMessage"),
            ("send_message_batch", "SendMessageBatch"),
            ("change_message_visibility", "ChangeMessageVisibility"),
            ("delete_message", "DeleteMessage"),
            ("receive_message", "ReceiveMessage"),
            ("get_queue_url", "GetQueueUrl"),
            ("get_queue_attributes", "GetQueueAttributes"),
        ],
    ),
    ("aws_sdk_sns", "sns", &[("publish", "Publish"), ("publish_batch", "PublishBatch")]),
    ("aws_sdk_sesv2", "ses", &[("send_email", "SendEmail")]),
    (
        "aws_sdk_s3",
        "s3",
        &[
            ("list_objects_v2", "ListObjectsV2"),
            ("get_object", "GetObject"),
            ("head_object", "HeadObject"),
            ("put_object", "PutObject"),
        ],
    ),
    ("aws_sdk_secretsmanager", "secretsmanager", &[("get_secret_value", "GetSecretValue")]),
    ("aws_sdk_iotdataplane", "iotdata", &[("publish", "Publish")]),
    ("aws_sdk_connect", "connect", &[("describe_contact", "DescribeContact")]),
    ("aws_sdk_kms", "kms", &[("sign", "Sign"), ("get_public_key", "GetPublicKey")]),
];

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// Test code issues nothing in AWS.
fn without_tests(text: &str) -> &str {
    text.find("#[cfg(test)]").map_or(text, |at| &text[..at])
}

/// The `Service.Operation`s one file's code calls.
pub fn operations_in(text: &str) -> BTreeSet<String> {
    let code = without_tests(text);
    let mut out = BTreeSet::new();
    for (krate, service, methods) in SERVICES {
        if !code.contains(krate) {
            continue;
        }
        for (method, operation) in *methods {
            if code.contains(&format!(".{method}()")) {
                out.insert(format!("{service}.{operation}"));
            }
        }
    }
    out
}

/// The workspace crates (name → `src` dir) a function depends on.
fn shared_crates(root: &Path, function_dir: &Path) -> BTreeMap<String, PathBuf> {
    let manifest = std::fs::read_to_string(function_dir.join("Cargo.toml")).unwrap_or_default();
    let mut out = BTreeMap::new();
    for line in manifest.lines() {
        let name = line.split(['.', '=', ' ']).next().unwrap_or_default();
        let dir = root.join("shared").join(name);
        if !name.is_empty() && dir.join("src").is_dir() {
            out.insert(name.replace('-', "_"), dir.join("src"));
        }
    }
    out
}

/// Where an operation was found: the function's own code, or a shared
/// crate's file (which other functions may be the ones to call).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Found {
    Own,
    Shared(String),
}

/// Every operation one function's code can issue, with where it was found.
pub fn function_operations(root: &Path, binary: &str) -> BTreeMap<String, BTreeSet<Found>> {
    let function_dir = root.join("functions").join(binary);
    let own: Vec<PathBuf> = rust_files(&function_dir.join("src"));
    let own_text: String = own.iter().filter_map(|p| std::fs::read_to_string(p).ok()).collect::<Vec<_>>().join("\n");
    let mut out: BTreeMap<String, BTreeSet<Found>> = BTreeMap::new();
    for operation in operations_in(&own_text) {
        out.entry(operation).or_default().insert(Found::Own);
    }
    for (krate, src) in shared_crates(root, &function_dir) {
        for file in rust_files(&src) {
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            // `use krate::a::b::Thing` names the module file a/b.rs (or a/b/..., a.rs).
            let module =
                file.strip_prefix(&src).ok().map(|m| m.with_extension("").to_string_lossy().replace('/', "::"));
            let module = module.map(|m| m.trim_end_matches("::mod").to_owned()).unwrap_or_default();
            let named = !module.is_empty() && module != "lib" && own_text.contains(&format!("{krate}::{module}"));
            let constructed = types_defined(&text)
                .iter()
                .any(|t| own_text.contains(&format!("{t}::new(")) || own_text.contains(&format!("{t}::from_")));
            if named || constructed {
                let shown = file.strip_prefix(root).unwrap_or(&file).display().to_string();
                for operation in operations_in(&text) {
                    out.entry(operation).or_default().insert(Found::Shared(shown.clone()));
                }
            }
        }
    }
    out
}

/// Type names a file defines or implements.
fn types_defined(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim_start();
        let rest = line.strip_prefix("pub struct ").or_else(|| line.strip_prefix("struct ")).or_else(|| {
            // `impl X`, `impl<T> X<T>`, `impl Trait for X`.
            let after = line.strip_prefix("impl")?;
            let after = match after.strip_prefix('<') {
                Some(generic) => generic.split_once("> ")?.1,
                None => after.strip_prefix(' ')?,
            };
            Some(after.rsplit(" for ").next().unwrap_or(after))
        });
        if let Some(rest) = rest {
            let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if name.chars().next().is_some_and(char::is_uppercase) {
                out.push(name);
            }
        }
    }
    out
}

/// The ledgers the stacks left in `dir`, added up: logical id → operation → (allowed, refused).
pub fn read_ledgers(dir: &Path) -> BTreeMap<String, BTreeMap<String, (u64, u64)>> {
    let mut out: BTreeMap<String, BTreeMap<String, (u64, u64)>> = BTreeMap::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let Ok(text) = std::fs::read_to_string(entry.path()) else { continue };
        let Ok(Value::Object(principals)) = serde_json::from_str::<Value>(&text) else { continue };
        for (principal, operations) in principals {
            for (operation, calls) in operations.as_object().into_iter().flatten() {
                let slot = out.entry(principal.clone()).or_default().entry(operation.clone()).or_default();
                slot.0 += calls["allowed"].as_u64().unwrap_or(0);
                slot.1 += calls["refused"].as_u64().unwrap_or(0);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdk_calls_are_read_by_the_service_the_file_imports() {
        let sns = "use aws_sdk_sns::Client;\nfn f(c: Client) { c.publish().topic_arn(x); }";
        assert_eq!(operations_in(sns), BTreeSet::from(["sns.Publish".to_owned()]));
        let iot = "use aws_sdk_iotdataplane::primitives::Blob;\nself.client.publish().topic(t)";
        assert_eq!(operations_in(iot), BTreeSet::from(["iotdata.Publish".to_owned()]));
        let test_only = "fn f() {}\n#[cfg(test)]\nmod tests { use aws_sdk_dynamodb::X; fn g() { c.scan().send() } }";
        assert!(operations_in(test_only).is_empty());
    }

    #[test]
    fn types_are_found_in_structs_and_impls() {
        let text = "pub struct DynamoStore {}\nimpl Store for DynamoStore {}\nimpl<T> Other<T> {}";
        assert_eq!(types_defined(text), ["DynamoStore", "DynamoStore", "Other"]);
    }
}
