//! Notifications in their recipient's partition, listed newest first through the
//! `by-time` LSI; unread ones also carry `unread_key`, so the sparse `unread` LSI
//! counts them without reading the read ones.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{ReturnValue, Select};

use super::keys::*;
use super::{condition_failed, malformed, s, sdk_err, text, too_many_pages, Item, MAX_PAGES};
use crate::cursor::NotificationCursor;
use crate::notification::Notification;
use crate::ports::{NotificationPage, NotificationReader, NotificationStore, StoreError};

#[derive(Clone)]
pub struct DynamoNotifications {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoNotifications {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    async fn read(&self, user_id: &str, notification_id: &str) -> Result<Option<Notification>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(USER_ID, s(user_id))
            .key(NOTIFICATION_ID, s(notification_id))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_err("GetItem", &e))?;
        out.item.map(notification_from).transpose()
    }
}

fn created_key(n: &Notification) -> String {
    format!("{}#{}", n.created_at, n.notification_id)
}

fn notification_from(item: Item) -> Result<Notification, StoreError> {
    serde_dynamo::from_item(item).map_err(|e| malformed("notification", e))
}

fn to_item(n: &Notification) -> Result<Item, StoreError> {
    let mut item: Item = serde_dynamo::to_item(n).map_err(|e| malformed("notification", e))?;
    item.insert(CREATED_KEY.to_owned(), s(created_key(n)));
    if !n.is_read() {
        item.insert(UNREAD_KEY.to_owned(), s(created_key(n)));
    }
    Ok(item)
}

#[async_trait]
impl NotificationStore for DynamoNotifications {
    async fn put(&self, notification: &Notification) -> Result<Option<Notification>, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(notification)?))
            .condition_expression("attribute_not_exists(#id)")
            .expression_attribute_names("#id", NOTIFICATION_ID)
            .send()
            .await;
        match result {
            Ok(_) => Ok(None),
            Err(err) if condition_failed(&err) => self.read(&notification.user_id, &notification.notification_id).await,
            Err(err) => Err(sdk_err("PutItem", &err)),
        }
    }

    async fn mark_published(&self, user_id: &str, notification_id: &str, at: &str) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(USER_ID, s(user_id))
            .key(NOTIFICATION_ID, s(notification_id))
            .update_expression("SET #p = if_not_exists(#p, :at)")
            .condition_expression("attribute_exists(#id)")
            .expression_attribute_names("#p", PUBLISHED_AT)
            .expression_attribute_names("#id", NOTIFICATION_ID)
            .expression_attribute_values(":at", s(at))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err) if condition_failed(&err) => Ok(()),
            Err(err) => Err(sdk_err("UpdateItem", &err)),
        }
    }
}

#[async_trait]
impl NotificationReader for DynamoNotifications {
    async fn list(
        &self,
        user_id: &str,
        limit: u32,
        after: Option<NotificationCursor>,
    ) -> Result<NotificationPage, StoreError> {
        let start = after.map(|c| {
            HashMap::from([
                (USER_ID.to_owned(), s(user_id)),
                (NOTIFICATION_ID.to_owned(), s(c.notification_id)),
                (CREATED_KEY.to_owned(), s(c.created_key)),
            ])
        });
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(BY_TIME)
            .key_condition_expression("#u = :u")
            .expression_attribute_names("#u", USER_ID)
            .expression_attribute_values(":u", s(user_id))
            .scan_index_forward(false)
            .limit(limit as i32)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| sdk_err("Query", &e))?;
        let items = out.items.unwrap_or_default().into_iter().map(notification_from).collect::<Result<Vec<_>, _>>()?;
        let next = out.last_evaluated_key.as_ref().and_then(|k| {
            Some(NotificationCursor { notification_id: text(k, NOTIFICATION_ID)?, created_key: text(k, CREATED_KEY)? })
        });
        Ok(NotificationPage { items, next })
    }

    async fn unread_count(&self, user_id: &str) -> Result<u64, StoreError> {
        let mut count = 0u64;
        let mut start: Option<Item> = None;
        for _ in 0..MAX_PAGES {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(UNREAD)
                .key_condition_expression("#u = :u")
                .expression_attribute_names("#u", USER_ID)
                .expression_attribute_values(":u", s(user_id))
                .select(Select::Count)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| sdk_err("Query", &e))?;
            count += u64::try_from(page.count).unwrap_or(0);
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(count),
            }
        }
        Err(too_many_pages("Query"))
    }

    async fn mark_read(
        &self,
        user_id: &str,
        notification_id: &str,
        at: &str,
    ) -> Result<Option<Notification>, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(USER_ID, s(user_id))
            .key(NOTIFICATION_ID, s(notification_id))
            .update_expression("SET #r = if_not_exists(#r, :at) REMOVE #unread")
            .condition_expression("attribute_exists(#id)")
            .expression_attribute_names("#r", READ_AT)
            .expression_attribute_names("#unread", UNREAD_KEY)
            .expression_attribute_names("#id", NOTIFICATION_ID)
            .expression_attribute_values(":at", s(at))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(out) => out.attributes.map(notification_from).transpose(),
            Err(err) if condition_failed(&err) => Ok(None),
            Err(err) => Err(sdk_err("UpdateItem", &err)),
        }
    }
}
