//! The activity log on DynamoDB. Race-free without read-modify-write:
//!
//! 1. one transaction appends the activity item (`attribute_not_exists`, so a
//!    redelivered event cancels it) and adds 1 to the service's login count;
//! 2. one conditional update moves the service's `last_accessed` forward only if
//!    this event is newer (ties broken by event id, so the result does not depend
//!    on arrival order).
//!
//! Step 2 runs even when step 1 finds a duplicate: a crash between the two is
//! repaired by the redelivery.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use chrono::{DateTime, Utc};
use kit::sdk::{classify_sdk_error, SdkFailure};

use crate::cursor::Cursor;
use crate::domain::{newest_first, render_time, ActivityItem, LoginEvent, ServiceEntry, UserId};
use crate::keys::{self, *};
use crate::ports::{ActivityPage, ActivityReader, LoginRecorder, Recorded, StoreError};

#[derive(Clone)]
pub struct DynamoActivityStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoActivityStore {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}
fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn sdk(operation: &'static str, failure: SdkFailure) -> StoreError {
    StoreError::Sdk { operation, failure }
}

impl DynamoActivityStore {
    fn activity_put(&self, e: &LoginEvent, now: DateTime<Utc>) -> Result<TransactWriteItem, StoreError> {
        let mut put = Put::builder()
            .table_name(&self.table)
            .item(PK, s(user_pk(&e.user_id)))
            .item(SK, s(event_sk(&e.event_id)))
            .item(ACTIVITY_TIME, s(activity_time(e.timestamp, &e.event_id)))
            .item(EVENT_ID, s(e.event_id.as_str()))
            .item(SERVICE_ID, s(e.service_id.as_str()))
            .item(SERVICE_NAME, s(&e.service_name))
            .item(TIMESTAMP, s(render_time(e.timestamp)))
            .item(RECORDED_AT, s(render_time(now)))
            .item(CONTENT_HASH, s(e.content_hash()))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", PK);
        if let Some(session) = &e.session_id {
            put = put.item(SESSION_ID, s(session));
        }
        let put = put.build().map_err(|e| sdk("TransactWriteItems", SdkFailure::permanent(e.to_string())))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    fn count_update(&self, e: &LoginEvent) -> Result<TransactWriteItem, StoreError> {
        let update = Update::builder()
            .table_name(&self.table)
            .key(PK, s(user_pk(&e.user_id)))
            .key(SK, s(service_sk(&e.service_id)))
            .update_expression("ADD #count :one SET #sid = :sid, #first = if_not_exists(#first, :ts)")
            .expression_attribute_names("#count", LOGIN_COUNT)
            .expression_attribute_names("#sid", SERVICE_ID)
            .expression_attribute_names("#first", FIRST_SEEN)
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":sid", s(e.service_id.as_str()))
            .expression_attribute_values(":ts", s(render_time(e.timestamp)))
            .build()
            .map_err(|e| sdk("TransactWriteItems", SdkFailure::permanent(e.to_string())))?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// Step 1: returns false if the event was already recorded (with the same
    /// content: an id reused for another login is refused).
    async fn append_event(&self, e: &LoginEvent) -> Result<bool, StoreError> {
        let result = self
            .client
            .transact_write_items()
            .transact_items(self.activity_put(e, Utc::now())?)
            .transact_items(self.count_update(e)?)
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(err) if err.as_service_error().is_some_and(event_already_recorded) => {
                self.ensure_same_content(e).await?;
                Ok(false)
            }
            Err(err) => Err(sdk("TransactWriteItems", classify_sdk_error(&err))),
        }
    }

    /// A redelivery must say what the recorded event said.
    async fn ensure_same_content(&self, e: &LoginEvent) -> Result<(), StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, s(user_pk(&e.user_id)))
            .key(SK, s(event_sk(&e.event_id)))
            .projection_expression("#h")
            .expression_attribute_names("#h", CONTENT_HASH)
            .consistent_read(true)
            .send()
            .await
            .map_err(|err| sdk("GetItem", classify_sdk_error(&err)))?;
        let stored = out.item.as_ref().and_then(|i| i.get(CONTENT_HASH)).and_then(|v| v.as_s().ok());
        match stored {
            Some(h) if *h != e.content_hash() => Err(StoreError::EventIdReused { event_id: e.event_id.to_string() }),
            _ => Ok(()),
        }
    }

    /// Step 2: returns true if this event is now the service's newest.
    async fn advance_last_accessed(&self, e: &LoginEvent) -> Result<bool, StoreError> {
        let us = keys::micros(e.timestamp);
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(user_pk(&e.user_id)))
            .key(SK, s(service_sk(&e.service_id)))
            .update_expression("SET #la = :la, #lau = :lau, #name = :name, #leid = :eid, #sid = :sid")
            .condition_expression("attribute_not_exists(#lau) OR #lau < :lau OR (#lau = :lau AND #leid < :eid)")
            .expression_attribute_names("#la", LAST_ACCESSED)
            .expression_attribute_names("#lau", LAST_ACCESSED_US)
            .expression_attribute_names("#name", SERVICE_NAME)
            .expression_attribute_names("#leid", LAST_EVENT_ID)
            .expression_attribute_names("#sid", SERVICE_ID)
            .expression_attribute_values(":la", s(render_time(e.timestamp)))
            .expression_attribute_values(":lau", n(us))
            .expression_attribute_values(":name", s(&e.service_name))
            .expression_attribute_values(":eid", s(e.event_id.as_str()))
            .expression_attribute_values(":sid", s(e.service_id.as_str()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(err) if err.as_service_error().and_then(|se| se.code()) == Some("ConditionalCheckFailedException") => {
                Ok(false)
            }
            Err(err) => Err(sdk("UpdateItem", classify_sdk_error(&err))),
        }
    }
}

#[async_trait]
impl LoginRecorder for DynamoActivityStore {
    async fn record(&self, e: &LoginEvent) -> Result<Recorded, StoreError> {
        let new_event = self.append_event(e).await?;
        let newest_for_service = self.advance_last_accessed(e).await?;
        Ok(Recorded { new_event, newest_for_service })
    }
}

/// Whether a failed append means "this event is already in the log": the
/// transaction was cancelled by the activity put's condition (the first item), not
/// by a conflict or throttling (retryable) or a failed count update.
fn event_already_recorded(err: &TransactWriteItemsError) -> bool {
    let TransactWriteItemsError::TransactionCanceledException(cancelled) = err else {
        return false;
    };
    cancelled.cancellation_reasons().first().and_then(|r| r.code()) == Some("ConditionalCheckFailed")
}

type Item = HashMap<String, AttributeValue>;

/// A service item as stored; converted at the edge with serde_dynamo.
#[derive(serde::Deserialize)]
struct StoredService {
    service_id: String,
    service_name: Option<String>,
    last_accessed: Option<DateTime<Utc>>,
    #[serde(default)]
    login_count: u64,
}

/// An activity item as stored.
#[derive(serde::Deserialize)]
struct StoredActivity {
    event_id: String,
    service_id: String,
    service_name: String,
    timestamp: DateTime<Utc>,
    session_id: Option<String>,
    report_id: Option<String>,
    ticket_id: Option<u64>,
}

/// The key attributes of the activity index, for the cursor.
#[derive(serde::Deserialize)]
struct StoredActivityKey {
    sk: String,
    activity_time: String,
}

fn malformed(what: &str, e: serde_dynamo::Error) -> StoreError {
    StoreError::Malformed(format!("{what}: {e}"))
}

fn service_from(item: &Item) -> Result<Option<ServiceEntry>, StoreError> {
    let stored: StoredService = serde_dynamo::from_item(item.clone()).map_err(|e| malformed("service item", e))?;
    // A service item whose step 2 has not run yet (crash between the steps) has no
    // last_accessed: it is not shown until the redelivery completes it.
    let (Some(last_accessed), Some(service_name)) = (stored.last_accessed, stored.service_name) else {
        return Ok(None);
    };
    Ok(Some(ServiceEntry {
        service_id: stored.service_id,
        service_name,
        last_accessed,
        login_count: stored.login_count,
    }))
}

fn activity_from(item: &Item) -> Result<ActivityItem, StoreError> {
    let a: StoredActivity = serde_dynamo::from_item(item.clone()).map_err(|e| malformed("activity item", e))?;
    Ok(ActivityItem {
        event_id: a.event_id,
        service_id: a.service_id,
        service_name: a.service_name,
        timestamp: a.timestamp,
        session_id: a.session_id,
        report_id: a.report_id,
        ticket_id: a.ticket_id,
    })
}

#[async_trait]
impl ActivityReader for DynamoActivityStore {
    async fn services(&self, user: &UserId) -> Result<Vec<ServiceEntry>, StoreError> {
        let mut out = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_names("#sk", SK)
                .expression_attribute_values(":pk", s(user_pk(user)))
                .expression_attribute_values(":prefix", s(SERVICE_PREFIX))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| sdk("Query", classify_sdk_error(&e)))?;
            for item in page.items() {
                if let Some(entry) = service_from(item)? {
                    out.push(entry);
                }
            }
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
        Ok(newest_first(out))
    }

    async fn activity(&self, user: &UserId, limit: u32, after: Option<Cursor>) -> Result<ActivityPage, StoreError> {
        let pk = user_pk(user);
        let start = after.map(|c| {
            HashMap::from([
                (PK.to_owned(), s(pk.clone())),
                (SK.to_owned(), s(c.sk)),
                (ACTIVITY_TIME.to_owned(), s(c.activity_time)),
            ])
        });
        let page = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(BY_TIME_INDEX)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_values(":pk", s(pk))
            .scan_index_forward(false)
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| sdk("Query", classify_sdk_error(&e)))?;
        let items = page.items().iter().map(activity_from).collect::<Result<Vec<_>, _>>()?;
        let next = match page.last_evaluated_key {
            Some(k) if !k.is_empty() => {
                let key: StoredActivityKey = serde_dynamo::from_item(k).map_err(|e| malformed("page key", e))?;
                Some(Cursor { sk: key.sk, activity_time: key.activity_time })
            }
            _ => None,
        };
        Ok(ActivityPage { items, next })
    }
}

#[cfg(test)]
mod tests;
