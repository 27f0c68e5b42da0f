//! The audit table. Append-only by construction and by IAM: the functions may put
//! (only if the key is free), get and query — never update or delete.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;

use super::keys::*;
use super::{condition_failed, malformed, n, number, s, sdk_err, text, too_many_pages, Item, MAX_PAGES};
use crate::cursor::AuditCursor;
use crate::ports::{Appended, AuditLog, AuditPage, AuditQuery, AuditReader, StoreError};
use crate::record::AuditRecord;

#[derive(Clone)]
pub struct DynamoAudit {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoAudit {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }
}

fn record_from(item: Item) -> Result<AuditRecord, StoreError> {
    serde_dynamo::from_item(item).map_err(|e| malformed("audit record", e))
}

/// The query's index, partition attribute and value.
fn index_of(query: &AuditQuery) -> Option<(&'static str, &'static str, &str)> {
    match query {
        AuditQuery::Workflow { .. } => None,
        AuditQuery::Actor { actor } => Some((BY_ACTOR, ACTOR, actor)),
        AuditQuery::Scheme { scheme, .. } => Some((BY_SCHEME, SCHEME, scheme)),
    }
}

/// The cursor as DynamoDB's `ExclusiveStartKey`: the table key, plus the index key.
fn start_key(query: &AuditQuery, c: &AuditCursor) -> Item {
    let mut key = HashMap::from([(WORKFLOW_ID.to_owned(), s(&c.workflow_id)), (SEQ.to_owned(), n(c.seq))]);
    if let (Some((_, attr, _)), Some(k), Some(at)) = (index_of(query), &c.index_key, &c.at) {
        key.insert(attr.to_owned(), s(k));
        key.insert(AT.to_owned(), s(at));
    }
    key
}

fn cursor_from(query: &AuditQuery, key: &Item) -> Option<AuditCursor> {
    let index = index_of(query);
    Some(AuditCursor {
        workflow_id: text(key, WORKFLOW_ID)?,
        seq: number(key, SEQ)?,
        index_key: index.and_then(|(_, attr, _)| text(key, attr)),
        at: index.and_then(|_| text(key, AT)),
    })
}

#[async_trait]
impl AuditLog for DynamoAudit {
    async fn get(&self, workflow_id: &str, seq: u64) -> Result<Option<AuditRecord>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(WORKFLOW_ID, s(workflow_id))
            .key(SEQ, n(seq))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_err("GetItem", &e))?;
        out.item.map(record_from).transpose()
    }

    async fn append(&self, record: &AuditRecord) -> Result<Appended, StoreError> {
        let item = serde_dynamo::to_item(record).map_err(|e| malformed("audit record", e))?;
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#w)")
            .expression_attribute_names("#w", WORKFLOW_ID)
            .send()
            .await;
        match result {
            Ok(_) => Ok(Appended::Stored),
            Err(err) if condition_failed(&err) => match self.get(&record.workflow_id, record.seq).await? {
                Some(existing) => Ok(Appended::Exists(Box::new(existing))),
                None => Err(StoreError::malformed("item", "the record's key is taken but nothing is stored under it")),
            },
            Err(err) => Err(sdk_err("PutItem", &err)),
        }
    }
}

#[async_trait]
impl AuditReader for DynamoAudit {
    async fn search(
        &self,
        query: &AuditQuery,
        limit: u32,
        after: Option<AuditCursor>,
    ) -> Result<AuditPage, StoreError> {
        let mut request = self.client.query().table_name(&self.table).limit(limit as i32).scan_index_forward(true);
        request = match query {
            AuditQuery::Workflow { workflow_id } => request
                .key_condition_expression("#w = :w")
                .expression_attribute_names("#w", WORKFLOW_ID)
                .expression_attribute_values(":w", s(workflow_id)),
            AuditQuery::Actor { actor } => request
                .index_name(BY_ACTOR)
                .key_condition_expression("#a = :a")
                .expression_attribute_names("#a", ACTOR)
                .expression_attribute_values(":a", s(actor)),
            AuditQuery::Scheme { scheme, from, to } => request
                .index_name(BY_SCHEME)
                .key_condition_expression("#s = :s AND #at BETWEEN :from AND :to")
                .expression_attribute_names("#s", SCHEME)
                .expression_attribute_names("#at", AT)
                .expression_attribute_values(":s", s(scheme))
                .expression_attribute_values(":from", s(from))
                .expression_attribute_values(":to", s(to)),
        };
        if let Some(c) = &after {
            request = request.set_exclusive_start_key(Some(start_key(query, c)));
        }
        let out = request.send().await.map_err(|e| sdk_err("Query", &e))?;
        let items = out.items.unwrap_or_default().into_iter().map(record_from).collect::<Result<Vec<_>, _>>()?;
        let next = out.last_evaluated_key.as_ref().and_then(|k| cursor_from(query, k));
        Ok(AuditPage { items, next })
    }

    async fn chain(&self, workflow_id: &str) -> Result<Vec<AuditRecord>, StoreError> {
        let mut out = Vec::new();
        let mut start: Option<Item> = None;
        for _ in 0..MAX_PAGES {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#w = :w")
                .expression_attribute_names("#w", WORKFLOW_ID)
                .expression_attribute_values(":w", AttributeValue::S(workflow_id.to_owned()))
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| sdk_err("Query", &e))?;
            for item in page.items.unwrap_or_default() {
                out.push(record_from(item)?);
            }
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(out),
            }
        }
        Err(too_many_pages("Query"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_become_start_keys_with_their_index_key_and_back() {
        let q = AuditQuery::Actor { actor: "bob".into() };
        let c = AuditCursor { workflow_id: "wf".into(), seq: 3, index_key: Some("bob".into()), at: Some("t".into()) };
        let key = start_key(&q, &c);
        assert_eq!(key[ACTOR].as_s().unwrap(), "bob");
        assert_eq!(key[SEQ].as_n().unwrap(), "3");
        assert_eq!(cursor_from(&q, &key).unwrap(), c);
        let by_wf = AuditQuery::Workflow { workflow_id: "wf".into() };
        let plain = AuditCursor { workflow_id: "wf".into(), seq: 3, index_key: None, at: None };
        assert_eq!(start_key(&by_wf, &plain).len(), 2);
        assert_eq!(cursor_from(&by_wf, &start_key(&by_wf, &plain)).unwrap(), plain);
    }
}
