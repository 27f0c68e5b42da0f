//! The step writes: each one conditional, so a replay or a stale message changes nothing.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use chrono::{DateTime, Utc};

use super::item::{attr, from_item, n, new_item, s, ts};
use super::{condition_failed, sdk_err, DynamoContactStore};
use crate::contact::{Contact, ContactId};
use crate::ports::{Cached, ContactStore, StoreError};
use crate::state::{ContactState, RecordingState};
use crate::view::ContactView;

impl DynamoContactStore {
    /// One conditional UpdateItem: true if it applied, false if its condition failed.
    async fn update(
        &self,
        id: &ContactId,
        update: String,
        condition: &str,
        values: Vec<(&str, AttributeValue)>,
    ) -> Result<bool, StoreError> {
        let mut req = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(attr::CONTACT_ID, s(id.as_str()))
            .return_values(ReturnValue::None);
        // DynamoDB refuses placeholders an expression does not use.
        for (placeholder, name) in [("#id", attr::CONTACT_ID), ("#st", attr::STATE)] {
            if update.contains(placeholder) || condition.contains(placeholder) {
                req = req.expression_attribute_names(placeholder, name);
            }
        }
        req = req.update_expression(update).condition_expression(condition);
        for (name, value) in values {
            req = req.expression_attribute_values(name, value);
        }
        match req.send().await {
            Ok(_) => Ok(true),
            Err(e) if condition_failed(&e) => Ok(false),
            Err(e) => Err(sdk_err("UpdateItem", &e)),
        }
    }
}

#[async_trait]
impl ContactStore for DynamoContactStore {
    async fn initialise(&self, contact: &Contact) -> Result<Cached, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(new_item(contact)))
            .condition_expression("attribute_not_exists(#id)")
            .expression_attribute_names("#id", attr::CONTACT_ID)
            .send()
            .await;
        match result {
            Ok(_) => Ok(Cached::Created),
            Err(e) if condition_failed(&e) => Ok(Cached::AlreadyCached),
            Err(e) => Err(sdk_err("PutItem", &e)),
        }
    }

    async fn get(&self, id: &ContactId) -> Result<Option<Contact>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(attr::CONTACT_ID, s(id.as_str()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_err("GetItem", &e))?;
        out.item.as_ref().map(from_item).transpose()
    }

    async fn advance(
        &self,
        id: &ContactId,
        next: ContactState,
        view: &ContactView,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut sets = vec![
            "#st = :st".to_owned(),
            format!("{} = :rank", attr::STATE_RANK),
            format!("{} = :st", attr::SWEEP_STATE),
            format!("{} = :now", attr::POLLED_AT),
            format!("{} = :now", attr::UPDATED_AT),
        ];
        let mut values = vec![(":st", s(next.as_str())), (":rank", n(next.rank())), (":now", ts(now))];
        for (name, placeholder, value) in [
            (attr::INITIATED_AT, ":initiated", view.initiated_at),
            (attr::AGENT_CONNECTED_AT, ":agent", view.agent_connected_at),
            (attr::DISCONNECTED_AT, ":disconnected", view.disconnected_at),
        ] {
            if let Some(t) = value {
                sets.push(format!("{name} = {placeholder}"));
                values.push((placeholder, ts(t)));
            }
        }
        let update = format!("SET {}", sets.join(", "));
        let condition = format!("attribute_exists(#id) AND {} < :rank", attr::STATE_RANK);
        self.update(id, update, &condition, values).await
    }

    async fn close(&self, id: &ContactId, reason: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let closed = ContactState::Closed;
        let update = format!(
            "SET #st = :st, {rank} = :rank, {reason} = :reason, {updated} = :now REMOVE {sweep}",
            rank = attr::STATE_RANK,
            reason = attr::CLOSED_REASON,
            updated = attr::UPDATED_AT,
            sweep = attr::SWEEP_STATE,
        );
        let condition = format!("attribute_exists(#id) AND {} < :rank", attr::STATE_RANK);
        let values =
            vec![(":st", s(closed.as_str())), (":rank", n(closed.rank())), (":reason", s(reason)), (":now", ts(now))];
        self.update(id, update, &condition, values).await
    }

    async fn record_recording(
        &self,
        id: &ContactId,
        state: RecordingState,
        key: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut update = format!(
            "SET {rs} = :rs, {checked} = :now, {updated} = :now",
            rs = attr::RECORDING_STATE,
            checked = attr::RECORDING_CHECKED_AT,
            updated = attr::UPDATED_AT,
        );
        let mut values = vec![
            (":rs", s(state.as_str())),
            (":now", ts(now)),
            (":completed", s(ContactState::CompletedAgent.as_str())),
        ];
        if let Some(k) = key {
            update.push_str(&format!(", {} = :key", attr::RECORDING_KEY));
            values.push((":key", s(k)));
        }
        // A recorded call has no work left; a missing one stays swept until its alert is out.
        if state == RecordingState::Recorded {
            update.push_str(&format!(" REMOVE {}", attr::SWEEP_STATE));
        }
        let condition = format!("#st = :completed AND attribute_not_exists({})", attr::RECORDING_STATE);
        self.update(id, update, &condition, values).await
    }

    async fn claim_alert(&self, id: &ContactId, now: DateTime<Utc>, until: DateTime<Utc>) -> Result<bool, StoreError> {
        let update = format!("SET {} = :until", attr::ALERT_CLAIM_UNTIL);
        let condition = format!(
            "{rs} = :missing AND attribute_not_exists({sent}) AND (attribute_not_exists({claim}) OR {claim} < :now)",
            rs = attr::RECORDING_STATE,
            sent = attr::ALERT_SENT_AT,
            claim = attr::ALERT_CLAIM_UNTIL,
        );
        let values = vec![(":missing", s(RecordingState::Missing.as_str())), (":now", ts(now)), (":until", ts(until))];
        self.update(id, update, &condition, values).await
    }

    async fn release_alert(&self, id: &ContactId) -> Result<(), StoreError> {
        let update = format!("REMOVE {}", attr::ALERT_CLAIM_UNTIL);
        // attribute_exists: an update of a missing key would create a bare item.
        let condition = format!("attribute_exists(#id) AND attribute_not_exists({})", attr::ALERT_SENT_AT);
        self.update(id, update, &condition, Vec::new()).await.map(|_| ())
    }

    async fn mark_alerted(&self, id: &ContactId, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let update = format!(
            "SET {alert} = :now, {updated} = :now REMOVE {sweep}, {claim}",
            alert = attr::ALERT_SENT_AT,
            updated = attr::UPDATED_AT,
            sweep = attr::SWEEP_STATE,
            claim = attr::ALERT_CLAIM_UNTIL,
        );
        let condition =
            format!("{} = :missing AND attribute_not_exists({})", attr::RECORDING_STATE, attr::ALERT_SENT_AT);
        let values = vec![(":missing", s(RecordingState::Missing.as_str())), (":now", ts(now))];
        self.update(id, update, &condition, values).await
    }
}
