//! The sweep's and the API's reads: queries on the two indexes, never a scan.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, WriteRequest};
use chrono::{DateTime, Utc};

use super::cursor::Cursor;
use super::item::{attr, from_item, s, ts};
use super::{build_err, sdk_err, DynamoContactStore, PENDING_INDEX, RECORDING_INDEX};
use crate::contact::{Contact, ContactId};
use crate::ports::{ContactReader, ContactStore, Page, PendingContacts, StoreError};
use crate::state::{ContactState, RecordingState};

/// BatchWriteItem takes 25 requests at most.
const DELETE_BATCH: usize = 25;
/// Rounds of resending what DynamoDB left unprocessed (it throttles by returning them).
const UNPROCESSED_ROUNDS: u32 = 5;

#[async_trait]
impl PendingContacts for DynamoContactStore {
    async fn pending(
        &self,
        state: ContactState,
        after: Option<Cursor>,
        limit: u32,
    ) -> Result<Page<ContactId>, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(PENDING_INDEX)
            .key_condition_expression("#sweep = :st")
            .expression_attribute_names("#sweep", attr::SWEEP_STATE)
            .expression_attribute_values(":st", s(state.as_str()))
            .limit(limit as i32)
            .set_exclusive_start_key(after.map(|c| c.to_key()))
            .send()
            .await
            .map_err(|e| sdk_err("Query", &e))?;
        let items = out
            .items()
            .iter()
            .map(|item| {
                let id = item.get(attr::CONTACT_ID).and_then(|v| v.as_s().ok());
                id.and_then(|id| ContactId::parse(id).ok())
                    .ok_or_else(|| StoreError::Malformed("index entry without a contact id".to_owned()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page { items, next: out.last_evaluated_key().and_then(Cursor::from_key) })
    }

    async fn delete(&self, ids: &[ContactId]) -> Result<(), StoreError> {
        for chunk in ids.chunks(DELETE_BATCH) {
            let mut requests = chunk
                .iter()
                .map(|id| {
                    let delete = DeleteRequest::builder()
                        .key(attr::CONTACT_ID, s(id.as_str()))
                        .build()
                        .map_err(|e| build_err("BatchWriteItem", e))?;
                    Ok(WriteRequest::builder().delete_request(delete).build())
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            for round in 0..UNPROCESSED_ROUNDS {
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, requests)
                    .send()
                    .await
                    .map_err(|e| sdk_err("BatchWriteItem", &e))?;
                requests = out.unprocessed_items.and_then(|mut m| m.remove(&self.table)).unwrap_or_default();
                if requests.is_empty() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50 << round)).await;
            }
            if !requests.is_empty() {
                return Err(StoreError::Sdk {
                    operation: "BatchWriteItem",
                    failure: kit::sdk::SdkFailure::retryable(format!("{} deletes left unprocessed", requests.len())),
                });
            }
        }
        Ok(())
    }
}

#[async_trait]
impl ContactReader for DynamoContactStore {
    async fn get(&self, id: &ContactId) -> Result<Option<Contact>, StoreError> {
        ContactStore::get(self, id).await
    }

    async fn by_recording_state(
        &self,
        state: RecordingState,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u32,
        after: Option<Cursor>,
    ) -> Result<Page<Contact>, StoreError> {
        let values: HashMap<String, AttributeValue> = HashMap::from([
            (":rs".to_owned(), s(state.as_str())),
            (":from".to_owned(), ts(from)),
            (":to".to_owned(), ts(to)),
        ]);
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(RECORDING_INDEX)
            .key_condition_expression("#rs = :rs AND #checked BETWEEN :from AND :to")
            .expression_attribute_names("#rs", attr::RECORDING_STATE)
            .expression_attribute_names("#checked", attr::RECORDING_CHECKED_AT)
            .set_expression_attribute_values(Some(values))
            .limit(limit as i32)
            .set_exclusive_start_key(after.map(|c| c.to_key()))
            .send()
            .await
            .map_err(|e| sdk_err("Query", &e))?;
        let items = out.items().iter().map(from_item).collect::<Result<Vec<_>, _>>()?;
        Ok(Page { items, next: out.last_evaluated_key().and_then(Cursor::from_key) })
    }
}
