//! The step writes: each one conditional, so a replay or a stale message changes nothing.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use chrono::{DateTime, Utc};

use super::item::{attr, from_item, n, new_item, s, settings, settings_value, ts};
use super::{condition_failed, sdk_err, DynamoContactStore};
use crate::contact::{Contact, ContactId};
use crate::ports::{Cached, ContactStore, StoreError};
use crate::state::{ContactState, RecordingState};
use crate::view::{Channel, ContactView};

type Item = HashMap<String, AttributeValue>;

impl DynamoContactStore {
    /// One UpdateItem (conditional unless `condition` is empty): true if it
    /// applied, false if its condition failed.
    pub(super) async fn update(
        &self,
        key: &str,
        update: String,
        condition: &str,
        values: Vec<(&str, AttributeValue)>,
    ) -> Result<bool, StoreError> {
        Ok(self.update_returning(key, update, condition, values, ReturnValue::None).await?.is_some())
    }

    /// One conditional UpdateItem returning what `returning` asks for: None if its
    /// condition failed.
    pub(super) async fn update_returning(
        &self,
        key: &str,
        update: String,
        condition: &str,
        values: Vec<(&str, AttributeValue)>,
        returning: ReturnValue,
    ) -> Result<Option<Item>, StoreError> {
        let mut req =
            self.client.update_item().table_name(&self.table).key(attr::CONTACT_ID, s(key)).return_values(returning);
        // DynamoDB refuses placeholders an expression does not use. (`state` and
        // `channel` are reserved words.)
        for (placeholder, name) in [("#id", attr::CONTACT_ID), ("#st", attr::STATE), ("#ch", attr::CHANNEL)] {
            if update.contains(placeholder) || condition.contains(placeholder) {
                req = req.expression_attribute_names(placeholder, name);
            }
        }
        req = req.update_expression(update);
        if !condition.is_empty() {
            req = req.condition_expression(condition);
        }
        for (name, value) in values {
            req = req.expression_attribute_values(name, value);
        }
        match req.send().await {
            Ok(out) => Ok(Some(out.attributes.unwrap_or_default())),
            Err(e) if condition_failed(&e) => Ok(None),
            Err(e) => Err(sdk_err("UpdateItem", &e)),
        }
    }

    /// Adds settings to a cached contact (a string set: replays add nothing). A
    /// contact still INITIALISED that had only recording-off settings goes on the
    /// sweep when one of these turns recording on.
    async fn merge_settings(&self, contact: &Contact) -> Result<Cached, StoreError> {
        if contact.recording_settings.is_empty() {
            return Ok(Cached::AlreadyCached);
        }
        let id = contact.contact_id.as_str();
        let set = || settings_value(contact.recording_settings.iter());
        let mut old = None;
        if contact.recording_settings.any_records() {
            let update =
                format!("ADD {rs} :set SET {sweep} = :init", rs = attr::RECORDING_SETTINGS, sweep = attr::SWEEP_STATE);
            let condition = format!("#st = :init AND attribute_not_exists({})", attr::RECORDING_STATE);
            let values = vec![(":set", set()), (":init", s(ContactState::Initialised.as_str()))];
            old = self.update_returning(id, update, &condition, values, ReturnValue::AllOld).await?;
        }
        if old.is_none() {
            let update = format!("ADD {} :set", attr::RECORDING_SETTINGS);
            old = self
                .update_returning(id, update, "attribute_exists(#id)", vec![(":set", set())], ReturnValue::AllOld)
                .await?;
        }
        // ALL_OLD, not UPDATED_OLD: an ADD that changes nothing need not count as
        // updated, and the comparison needs the whole set as it was.
        let Some(old) = old else {
            // Deleted since the put found it (a finished queue call): not recreated.
            return Ok(Cached::AlreadyCached);
        };
        let held = settings(&old)?;
        Ok(if contact.recording_settings.missing_from(&held).next().is_some() {
            Cached::Updated
        } else {
            Cached::AlreadyCached
        })
    }
}

/// The SET clauses and values for what DescribeContact said.
fn view_sets(view: &ContactView, sets: &mut Vec<String>, values: &mut Vec<(&'static str, AttributeValue)>) {
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
    if let Some(channel) = view.channel {
        sets.push("#ch = :ch".to_owned());
        values.push((":ch", s(channel.as_str())));
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
            Err(e) if condition_failed(&e) => self.merge_settings(contact).await,
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
        view_sets(view, &mut sets, &mut values);
        let update = format!("SET {} REMOVE {}", sets.join(", "), attr::POLL_CLAIMED_UNTIL);
        let condition = format!("attribute_exists(#id) AND {} < :rank", attr::STATE_RANK);
        self.update(id.as_str(), update, &condition, values).await
    }

    async fn polled(&self, id: &ContactId, now: DateTime<Utc>) -> Result<(), StoreError> {
        let update = format!("SET {} = :now REMOVE {}", attr::POLLED_AT, attr::POLL_CLAIMED_UNTIL);
        // attribute_exists: an update of a missing key would create a bare item.
        self.update(id.as_str(), update, "attribute_exists(#id)", vec![(":now", ts(now))]).await.map(|_| ())
    }

    async fn not_applicable(&self, id: &ContactId, view: &ContactView, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let mut sets = vec![
            format!("{} = :na", attr::RECORDING_STATE),
            format!("{} = :now", attr::RECORDING_CHECKED_AT),
            format!("{} = :now", attr::POLLED_AT),
            format!("{} = :now", attr::UPDATED_AT),
        ];
        let mut values = vec![
            (":na", s(RecordingState::NotApplicable.as_str())),
            (":now", ts(now)),
            (":closed", n(ContactState::Closed.rank())),
        ];
        let mut view = *view;
        view.channel = Some(view.channel.unwrap_or(Channel::Other));
        view_sets(&view, &mut sets, &mut values);
        let update = format!("SET {} REMOVE {}, {}", sets.join(", "), attr::SWEEP_STATE, attr::POLL_CLAIMED_UNTIL);
        let condition = format!(
            "attribute_exists(#id) AND attribute_not_exists({}) AND {} < :closed",
            attr::RECORDING_STATE,
            attr::STATE_RANK
        );
        self.update(id.as_str(), update, &condition, values).await
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
        self.update(id.as_str(), update, &condition, values).await
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
        // Any outcome but a missing recording leaves no work; a missing one stays
        // swept until its alert is out.
        if state != RecordingState::Missing {
            update.push_str(&format!(" REMOVE {}", attr::SWEEP_STATE));
        }
        let condition = format!("#st = :completed AND attribute_not_exists({})", attr::RECORDING_STATE);
        self.update(id.as_str(), update, &condition, values).await
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
        self.update(id.as_str(), update, &condition, values).await
    }

    async fn release_alert(&self, id: &ContactId) -> Result<(), StoreError> {
        let update = format!("REMOVE {}", attr::ALERT_CLAIM_UNTIL);
        // attribute_exists: an update of a missing key would create a bare item.
        let condition = format!("attribute_exists(#id) AND attribute_not_exists({})", attr::ALERT_SENT_AT);
        self.update(id.as_str(), update, &condition, Vec::new()).await.map(|_| ())
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
        self.update(id.as_str(), update, &condition, values).await
    }
}
