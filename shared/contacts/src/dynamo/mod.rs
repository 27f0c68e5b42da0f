//! The contacts table on DynamoDB: one item per contact, keyed by `contact_id`.
//!
//! | index | keys | holds |
//! |---|---|---|
//! | `pending-by-state` (sparse, keys only) | `sweep_state` | contacts with work left, by state: the sweep's only read |
//! | `by-recording-state` | `recording_state`, `recording_checked_at` | checked calls by outcome and time: the operations API |
//! | `pending-since` (sparse, keys only) | `sweep_state`, `initialised_at` | the same contacts, oldest first: the stuck check |
//!
//! Every write is conditional on the state's rank, so the item only moves forward.
//! One item is not a contact: the flow-log heartbeat, under [`HEARTBEAT_KEY`] (no
//! index holds it; the API only reads contact ids, which are UUIDs).

mod cursor;
mod heartbeat;
mod item;
mod read;
mod since;
mod write;

pub use cursor::{Cursor, InvalidCursor};
pub use item::attr;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use kit::sdk::{classify_sdk_error, SdkFailure};

use crate::ports::StoreError;

pub const PENDING_INDEX: &str = "pending-by-state";
pub const RECORDING_INDEX: &str = "by-recording-state";
/// The pending contacts again, by state and first-cached time: the stuck check's read.
pub const PENDING_SINCE_INDEX: &str = "pending-since";
/// The key of the item that notes when the flow-log subscription last delivered.
pub const HEARTBEAT_KEY: &str = "flow-logs#heartbeat";

#[derive(Clone)]
pub struct DynamoContactStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoContactStore {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }
}

fn sdk_err<E, R>(operation: &'static str, err: &SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    StoreError::Sdk { operation, failure: classify_sdk_error(err) }
}

fn build_err(operation: &'static str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Sdk { operation, failure: SdkFailure::permanent(e.to_string()) }
}

/// A conditional write that lost its condition: not an error, an answer.
fn condition_failed<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    err.as_service_error().and_then(|e| e.code()) == Some("ConditionalCheckFailedException")
}
