//! The approval workflow's state on DynamoDB: one item per request (see [`keys`]).
//! Every change is one conditional `UpdateItem` on it, so no two writers can both
//! win a transition; none reads first.

mod awaiting;
mod decide;
mod effects;
mod execution;
pub mod item;
pub mod keys;
mod outbox;
mod requests;

pub use outbox::SWEEP_ORDER;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use kit::store::{condition_failed, sdk_err, ConditionalWrite};

use crate::ports::StoreError;

/// How long a request stays after its expiry before DynamoDB TTL removes it: its
/// status and history stay readable for the on-prem service meanwhile.
pub const DEFAULT_RETENTION_DAYS: i64 = 30;

#[derive(Clone)]
pub struct DynamoApprovalStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
    retention: chrono::Duration,
}

impl DynamoApprovalStore {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into(), retention: chrono::Duration::days(DEFAULT_RETENTION_DAYS) }
    }

    pub fn with_retention(mut self, retention: chrono::Duration) -> Self {
        self.retention = retention;
        self
    }

    fn update(&self, request_id: &str) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        self.client.update_item().table_name(&self.table).key(keys::REQUEST_ID, s(request_id))
    }
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn ts(t: DateTime<Utc>) -> AttributeValue {
    s(item::render(t))
}

fn ms(t: DateTime<Utc>) -> AttributeValue {
    n(t.timestamp_millis())
}

/// Runs a conditional update: Ok(true) if written, Ok(false) if its condition failed.
async fn conditional(
    update: aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder,
) -> Result<bool, StoreError> {
    Ok(update.send().await.conditional("UpdateItem")?.is_written())
}
