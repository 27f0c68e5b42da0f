//! The DynamoDB adapters: workflow items, the append-only audit table, and the
//! users' notifications. Items convert at this edge (serde_dynamo); attribute and
//! index names live in [`keys`], the same names the template declares.

mod audit;
pub mod keys;
mod notifications;
mod workflows;

pub use audit::DynamoAudit;
pub use notifications::DynamoNotifications;
pub use workflows::DynamoWorkflows;

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use kit::sdk::SdkFailure;
use kit::store::{condition_failed, sdk_err};

use crate::ports::StoreError;

type Item = HashMap<String, AttributeValue>;

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn malformed(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::malformed("item", format!("{what}: {e}"))
}

fn text(item: &Item, key: &str) -> Option<String> {
    item.get(key).and_then(|v| v.as_s().ok()).cloned()
}

fn number(item: &Item, key: &str) -> Option<u64> {
    item.get(key).and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok())
}

/// Queries read at most this many pages into one answer (a chain, a count).
const MAX_PAGES: usize = 100;

fn too_many_pages(operation: &'static str) -> StoreError {
    StoreError::Sdk { operation, failure: SdkFailure::permanent("more pages than one request may read") }
}
