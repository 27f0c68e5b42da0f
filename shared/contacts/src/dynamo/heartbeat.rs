//! The flow-log heartbeat: one item, written by every delivery and read (and
//! marked) by the watch.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::item::{attr, n, s, time, ts};
use super::{sdk_err, DynamoContactStore, HEARTBEAT_KEY};
use crate::ports::{FlowLogHeartbeat, Heartbeat, StoreError};

#[async_trait]
impl FlowLogHeartbeat for DynamoContactStore {
    async fn delivered(&self, log_group: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        let update = format!(
            "SET {last} = :at, {group} = :group ADD {count} :one",
            last = attr::LAST_DELIVERY_AT,
            group = attr::LOG_GROUP,
            count = attr::DELIVERIES,
        );
        // Deliveries can finish out of order: the time never moves backwards.
        let condition = format!("attribute_not_exists({last}) OR {last} < :at", last = attr::LAST_DELIVERY_AT);
        let values = vec![(":at", ts(at)), (":group", s(log_group)), (":one", n(1))];
        self.update(HEARTBEAT_KEY, update, &condition, values).await.map(|_| ())
    }

    async fn heartbeat(&self) -> Result<Heartbeat, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(attr::CONTACT_ID, s(HEARTBEAT_KEY))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_err("GetItem", &e))?;
        let Some(item) = out.item else {
            return Ok(Heartbeat::default());
        };
        Ok(Heartbeat {
            last_delivery_at: time(&item, attr::LAST_DELIVERY_AT)?,
            last_watch_at: time(&item, attr::LAST_WATCH_AT)?,
            watching_since: time(&item, attr::WATCHING_SINCE)?,
        })
    }

    async fn watched(&self, at: DateTime<Utc>, watching_since: DateTime<Utc>) -> Result<(), StoreError> {
        let update = format!("SET {} = :at, {} = :since", attr::LAST_WATCH_AT, attr::WATCHING_SINCE);
        let values = vec![(":at", ts(at)), (":since", ts(watching_since))];
        // No condition: the watch runs alone, every few minutes.
        self.update(HEARTBEAT_KEY, update, "", values).await.map(|_| ())
    }
}
