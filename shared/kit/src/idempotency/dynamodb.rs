//! The idempotency store on DynamoDB: one item per key, conditional writes only.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use chrono::{DateTime, TimeZone, Utc};

use super::{Acquire, IdempotencyStore, Record, Status, StoreError};
use crate::sdk::classify_sdk_error;

/// Attribute names, in one place.
pub mod attr {
    /// The partition key: the idempotency key.
    pub const KEY: &str = "id";
    /// `INPROGRESS` or `COMPLETED`.
    pub const STATUS: &str = "status";
    /// SHA-256 of the payload, hex.
    pub const PAYLOAD_HASH: &str = "payload_hash";
    /// The work's result, as JSON.
    pub const RESULT: &str = "result";
    /// The attempt holding the key.
    pub const OWNER: &str = "owner";
    /// Epoch milliseconds.
    pub const LEASE_UNTIL: &str = "lease_until";
    /// Epoch seconds: the table's TTL attribute.
    pub const EXPIRES_AT: &str = "expires_at";
}

/// The idempotency store on a DynamoDB table keyed by `id` (TTL on `expires_at`).
pub struct DynamoIdempotencyStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoIdempotencyStore {
    /// The store on `table`.
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    async fn read(&self, key: &str) -> Result<Option<Record>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(attr::KEY, AttributeValue::S(key.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StoreError::Sdk(classify_sdk_error(&e)))?;
        out.item.map(|item| from_item(key, &item)).transpose()
    }
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}
fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn from_item(key: &str, item: &HashMap<String, AttributeValue>) -> Result<Record, StoreError> {
    let bad = |why: &str| StoreError::Malformed { key: key.to_owned(), why: why.to_owned() };
    let get_s = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
    let get_n = |name: &str| item.get(name).and_then(|v| v.as_n().ok()).and_then(|v| v.parse::<i64>().ok());
    let status = get_s(attr::STATUS).and_then(|s| Status::parse(&s)).ok_or_else(|| bad("status"))?;
    let lease_ms = get_n(attr::LEASE_UNTIL).unwrap_or(0);
    let expires_s = get_n(attr::EXPIRES_AT).ok_or_else(|| bad("expires_at"))?;
    Ok(Record {
        key: key.to_owned(),
        status,
        payload_hash: get_s(attr::PAYLOAD_HASH).unwrap_or_default(),
        result: get_s(attr::RESULT),
        owner: get_s(attr::OWNER).unwrap_or_default(),
        lease_until: Utc.timestamp_millis_opt(lease_ms).single().unwrap_or_default(),
        expires_at: Utc.timestamp_opt(expires_s, 0).single().unwrap_or_default(),
    })
}

fn is_condition_failure<E: aws_sdk_dynamodb::error::ProvideErrorMetadata>(e: &E) -> bool {
    e.code() == Some("ConditionalCheckFailedException")
}

#[async_trait]
impl IdempotencyStore for DynamoIdempotencyStore {
    async fn try_acquire(&self, record: &Record, now: DateTime<Utc>) -> Result<Acquire, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(attr::KEY, s(&record.key))
            .item(attr::STATUS, s(Status::InProgress.as_str()))
            .item(attr::PAYLOAD_HASH, s(&record.payload_hash))
            .item(attr::OWNER, s(&record.owner))
            .item(attr::LEASE_UNTIL, n(record.lease_until.timestamp_millis()))
            .item(attr::EXPIRES_AT, n(record.expires_at.timestamp()))
            .condition_expression(
                "attribute_not_exists(#k) \
                 OR (#s = :inprogress AND #lease < :now_ms) \
                 OR (#s = :completed AND #exp < :now_s)",
            )
            .expression_attribute_names("#k", attr::KEY)
            .expression_attribute_names("#s", attr::STATUS)
            .expression_attribute_names("#lease", attr::LEASE_UNTIL)
            .expression_attribute_names("#exp", attr::EXPIRES_AT)
            .expression_attribute_values(":inprogress", s(Status::InProgress.as_str()))
            .expression_attribute_values(":completed", s(Status::Completed.as_str()))
            .expression_attribute_values(":now_ms", n(now.timestamp_millis()))
            .expression_attribute_values(":now_s", n(now.timestamp()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(Acquire::Acquired),
            Err(e) if e.as_service_error().is_some_and(is_condition_failure) => {
                Ok(Acquire::Held(self.read(&record.key).await?))
            }
            Err(e) => Err(StoreError::Sdk(classify_sdk_error(&e))),
        }
    }

    async fn complete(
        &self,
        key: &str,
        owner: &str,
        result: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(attr::KEY, s(key))
            .update_expression("SET #s = :completed, #r = :result, #exp = :exp REMOVE #lease")
            .condition_expression("#o = :owner AND #s = :inprogress")
            .expression_attribute_names("#s", attr::STATUS)
            .expression_attribute_names("#r", attr::RESULT)
            .expression_attribute_names("#exp", attr::EXPIRES_AT)
            .expression_attribute_names("#lease", attr::LEASE_UNTIL)
            .expression_attribute_names("#o", attr::OWNER)
            .expression_attribute_values(":completed", s(Status::Completed.as_str()))
            .expression_attribute_values(":inprogress", s(Status::InProgress.as_str()))
            .expression_attribute_values(":result", s(result))
            .expression_attribute_values(":exp", n(expires_at.timestamp()))
            .expression_attribute_values(":owner", s(owner))
            .return_values(ReturnValue::None)
            .send()
            .await;
        match out {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(is_condition_failure) => Ok(false),
            Err(e) => Err(StoreError::Sdk(classify_sdk_error(&e))),
        }
    }

    async fn release(&self, key: &str, owner: &str) -> Result<(), StoreError> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(attr::KEY, s(key))
            .condition_expression("#o = :owner AND #s = :inprogress")
            .expression_attribute_names("#o", attr::OWNER)
            .expression_attribute_names("#s", attr::STATUS)
            .expression_attribute_values(":owner", s(owner))
            .expression_attribute_values(":inprogress", s(Status::InProgress.as_str()))
            .send()
            .await;
        match out {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(is_condition_failure) => Ok(()),
            Err(e) => Err(StoreError::Sdk(classify_sdk_error(&e))),
        }
    }
}
