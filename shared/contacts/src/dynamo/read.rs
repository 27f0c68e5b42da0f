//! The sweep's and the API's reads: queries on the two indexes, never a scan.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, KeysAndAttributes, WriteRequest};
use chrono::{DateTime, Utc};

use super::cursor::Cursor;
use super::item::{attr, from_item, s, time, ts};
use super::{build_err, sdk_err, DynamoContactStore, PENDING_INDEX, RECORDING_INDEX};
use crate::contact::{Contact, ContactId};
use crate::ports::{ContactReader, ContactStore, Page, PendingContacts, PollCandidate, StoreError};
use crate::state::{ContactState, RecordingState};

/// BatchWriteItem takes 25 requests at most.
const DELETE_BATCH: usize = 25;
/// BatchGetItem takes 100 keys at most.
const GET_BATCH: usize = 100;
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
                    .ok_or_else(|| StoreError::malformed("contact", "index entry without a contact id"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page { items, next: out.last_evaluated_key().and_then(Cursor::from_key) })
    }

    async fn poll_candidates(&self, ids: &[ContactId]) -> Result<Vec<PollCandidate>, StoreError> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(GET_BATCH) {
            let mut keys: Vec<HashMap<String, AttributeValue>> =
                chunk.iter().map(|id| HashMap::from([(attr::CONTACT_ID.to_owned(), s(id.as_str()))])).collect();
            for round in 0..UNPROCESSED_ROUNDS {
                // Eventually consistent is enough: the claim that follows is conditional.
                let request = KeysAndAttributes::builder()
                    .set_keys(Some(keys))
                    .projection_expression(format!("#id, {}, {}", attr::POLLED_AT, attr::POLL_CLAIMED_UNTIL))
                    .expression_attribute_names("#id", attr::CONTACT_ID)
                    .build()
                    .map_err(|e| build_err("BatchGetItem", e))?;
                let result = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, request)
                    .send()
                    .await
                    .map_err(|e| sdk_err("BatchGetItem", &e))?;
                for item in result.responses.and_then(|mut r| r.remove(&self.table)).unwrap_or_default() {
                    let id =
                        item.get(attr::CONTACT_ID).and_then(|v| v.as_s().ok()).and_then(|id| ContactId::parse(id).ok());
                    let Some(contact_id) = id else {
                        return Err(StoreError::malformed("contact", "an item without a contact id"));
                    };
                    out.push(PollCandidate {
                        contact_id,
                        polled_at: time(&item, attr::POLLED_AT)?,
                        poll_claimed_until: time(&item, attr::POLL_CLAIMED_UNTIL)?,
                    });
                }
                keys =
                    result.unprocessed_keys.and_then(|mut m| m.remove(&self.table)).map(|k| k.keys).unwrap_or_default();
                if keys.is_empty() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50 << round)).await;
            }
            if !keys.is_empty() {
                return Err(StoreError::Sdk {
                    operation: "BatchGetItem",
                    failure: kit::sdk::SdkFailure::retryable(format!("{} reads left unprocessed", keys.len())),
                });
            }
        }
        Ok(out)
    }

    async fn claim_poll(&self, id: &ContactId, now: DateTime<Utc>, until: DateTime<Utc>) -> Result<bool, StoreError> {
        let update = format!("SET {} = :until", attr::POLL_CLAIMED_UNTIL);
        // Only while it has work left, and no other message is out for it.
        let condition = format!(
            "attribute_exists({sweep}) AND (attribute_not_exists({claim}) OR {claim} <= :now)",
            sweep = attr::SWEEP_STATE,
            claim = attr::POLL_CLAIMED_UNTIL,
        );
        self.update(id.as_str(), update, &condition, vec![(":until", ts(until)), (":now", ts(now))]).await
    }

    async fn unclaim_poll(&self, id: &ContactId, until: DateTime<Utc>) -> Result<(), StoreError> {
        let update = format!("REMOVE {}", attr::POLL_CLAIMED_UNTIL);
        // Only our own claim (a later sweep may hold one since).
        let condition = format!("{} = :until", attr::POLL_CLAIMED_UNTIL);
        self.update(id.as_str(), update, &condition, vec![(":until", ts(until))]).await.map(|_| ())
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
