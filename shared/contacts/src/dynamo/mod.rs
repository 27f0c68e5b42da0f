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

use kit::store::{build_err, condition_failed, sdk_err};

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
