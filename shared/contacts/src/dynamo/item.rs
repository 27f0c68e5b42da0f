//! Contacts ⇄ items, at the edge. Attribute names live here only.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};

use crate::contact::{Contact, ContactId, InstanceId};
use crate::expectation::{RecordingSetting, RecordingSettings};
use crate::ports::StoreError;
use crate::state::{ContactState, RecordingState};
use crate::time::{parse, render};
use crate::view::Channel;

pub mod attr {
    pub const CONTACT_ID: &str = "contact_id";
    pub const INSTANCE_ID: &str = "instance_id";
    pub const STATE: &str = "state";
    pub const STATE_RANK: &str = "state_rank";
    /// Present while the contact has work left (equal to `state`): the sparse index's key.
    pub const SWEEP_STATE: &str = "sweep_state";
    /// Every recording setting seen (a string set of [`RecordingSetting::encode`]d
    /// values: adding one twice changes nothing, whatever order they come in).
    pub const RECORDING_SETTINGS: &str = "recording_settings";
    /// Before issue 16 only the first enabling setting was kept, in these three:
    /// still read, so contacts cached before then keep their setting.
    pub const REQUESTED_AT: &str = "requested_at";
    pub const PARTICIPANTS: &str = "recording_participants";
    pub const ANALYTICS: &str = "analytics_requested";
    pub const CHANNEL: &str = "channel";
    pub const INITIALISED_AT: &str = "initialised_at";
    pub const INITIATED_AT: &str = "initiated_at";
    pub const AGENT_CONNECTED_AT: &str = "agent_connected_at";
    pub const DISCONNECTED_AT: &str = "disconnected_at";
    pub const POLLED_AT: &str = "polled_at";
    /// Until when a poll message is out (the sweep claims it before sending).
    pub const POLL_CLAIMED_UNTIL: &str = "poll_claimed_until";
    pub const RECORDING_STATE: &str = "recording_state";
    pub const RECORDING_CHECKED_AT: &str = "recording_checked_at";
    pub const RECORDING_KEY: &str = "recording_key";
    pub const ALERT_SENT_AT: &str = "alert_sent_at";
    /// Until when one attempt may send the alert (two at once would send two).
    pub const ALERT_CLAIM_UNTIL: &str = "alert_claim_until";
    pub const CLOSED_REASON: &str = "closed_reason";
    /// Operators' redrives: a list of `{at, by, step}`.
    pub const REDRIVES: &str = kit::redrive::ATTRIBUTE;
    pub const UPDATED_AT: &str = "updated_at";
    /// TTL (epoch seconds): contacts are kept for `RETENTION_DAYS`.
    pub const EXPIRES_AT: &str = "expires_at";
    /// The flow-log heartbeat item's fields (see [`super::HEARTBEAT_KEY`]).
    pub const LAST_DELIVERY_AT: &str = "last_delivery_at";
    pub const LOG_GROUP: &str = "log_group";
    pub const DELIVERIES: &str = "deliveries";
    pub const LAST_WATCH_AT: &str = "last_watch_at";
    pub const WATCHING_SINCE: &str = "watching_since";
}

/// How long a contact's record is kept (DynamoDB TTL; the API reads it meanwhile).
pub const RETENTION_DAYS: i64 = 180;

pub(crate) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub(crate) fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

pub(crate) fn ts(t: DateTime<Utc>) -> AttributeValue {
    s(render(t))
}

/// The whole item of a newly cached contact.
pub(crate) fn new_item(contact: &Contact) -> HashMap<String, AttributeValue> {
    let mut item = HashMap::from([
        (attr::CONTACT_ID.to_owned(), s(contact.contact_id.as_str())),
        (attr::INSTANCE_ID.to_owned(), s(contact.instance_id.as_str())),
        (attr::STATE.to_owned(), s(contact.state.as_str())),
        (attr::STATE_RANK.to_owned(), n(contact.state.rank())),
        (attr::INITIALISED_AT.to_owned(), ts(contact.initialised_at)),
        (attr::UPDATED_AT.to_owned(), ts(contact.updated_at)),
        (attr::EXPIRES_AT.to_owned(), n((contact.initialised_at + chrono::Duration::days(RETENTION_DAYS)).timestamp())),
    ]);
    if let Some(state) = contact.pending_work() {
        item.insert(attr::SWEEP_STATE.to_owned(), s(state.as_str()));
    }
    if !contact.recording_settings.is_empty() {
        item.insert(attr::RECORDING_SETTINGS.to_owned(), settings_value(contact.recording_settings.iter()));
    }
    item
}

/// A string set of settings (DynamoDB refuses an empty set: callers pass at least one).
pub(crate) fn settings_value<'a>(settings: impl Iterator<Item = &'a RecordingSetting>) -> AttributeValue {
    AttributeValue::Ss(settings.map(RecordingSetting::encode).collect())
}

/// The settings an item holds: the set, or the single setting items cached
/// before issue 16 kept.
pub(crate) fn settings(item: &HashMap<String, AttributeValue>) -> Result<RecordingSettings, StoreError> {
    if let Some(set) = item.get(attr::RECORDING_SETTINGS).and_then(|v| v.as_ss().ok()) {
        let decoded = set
            .iter()
            .map(|text| RecordingSetting::decode(text))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| StoreError::malformed("contact", "a recording setting is unreadable"))?;
        return Ok(RecordingSettings::new(decoded));
    }
    let participants: Vec<String> =
        item.get(attr::PARTICIPANTS).and_then(|v| v.as_ss().ok()).cloned().unwrap_or_default();
    if participants.is_empty() {
        return Ok(RecordingSettings::default());
    }
    let at = match time(item, attr::REQUESTED_AT)? {
        Some(t) => t,
        None => time(item, attr::INITIALISED_AT)?
            .ok_or_else(|| StoreError::malformed("contact", "initialised_at is missing"))?,
    };
    let analytics = item.get(attr::ANALYTICS).and_then(|v| v.as_bool().ok()).copied().unwrap_or(false);
    Ok(RecordingSettings::new([RecordingSetting::new(at, participants, analytics)]))
}

pub(crate) fn text<'a>(item: &'a HashMap<String, AttributeValue>, name: &str) -> Option<&'a str> {
    item.get(name).and_then(|v| v.as_s().ok()).map(String::as_str)
}

pub(crate) fn time(item: &HashMap<String, AttributeValue>, name: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
    match text(item, name) {
        None => Ok(None),
        Some(raw) => {
            parse(raw).map(Some).ok_or_else(|| StoreError::malformed("contact", format!("{name} is not a time")))
        }
    }
}

fn required<'a>(item: &'a HashMap<String, AttributeValue>, name: &str) -> Result<&'a str, StoreError> {
    text(item, name).ok_or_else(|| StoreError::malformed("contact", format!("{name} is missing")))
}

pub(crate) fn from_item(item: &HashMap<String, AttributeValue>) -> Result<Contact, StoreError> {
    let malformed = |what: &str| StoreError::malformed("contact", what);
    let contact_id = ContactId::parse(required(item, attr::CONTACT_ID)?).map_err(|e| malformed(&e.to_string()))?;
    let instance_id = InstanceId::parse(required(item, attr::INSTANCE_ID)?).map_err(|e| malformed(&e.to_string()))?;
    let state = ContactState::parse(required(item, attr::STATE)?).ok_or_else(|| malformed("unknown state"))?;
    let recording_state = match text(item, attr::RECORDING_STATE) {
        None => None,
        Some(raw) => Some(RecordingState::parse(raw).ok_or_else(|| malformed("unknown recording state"))?),
    };
    let initialised_at = time(item, attr::INITIALISED_AT)?.ok_or_else(|| malformed("initialised_at is missing"))?;
    Ok(Contact {
        recording_settings: settings(item)?,
        channel: text(item, attr::CHANNEL).map(Channel::parse),
        contact_id,
        instance_id,
        state,
        initialised_at,
        initiated_at: time(item, attr::INITIATED_AT)?,
        agent_connected_at: time(item, attr::AGENT_CONNECTED_AT)?,
        disconnected_at: time(item, attr::DISCONNECTED_AT)?,
        polled_at: time(item, attr::POLLED_AT)?,
        poll_claimed_until: time(item, attr::POLL_CLAIMED_UNTIL)?,
        recording_state,
        recording_checked_at: time(item, attr::RECORDING_CHECKED_AT)?,
        recording_key: text(item, attr::RECORDING_KEY).map(str::to_owned),
        alert_sent_at: time(item, attr::ALERT_SENT_AT)?,
        closed_reason: text(item, attr::CLOSED_REASON).map(str::to_owned),
        updated_at: time(item, attr::UPDATED_AT)?.unwrap_or(initialised_at),
        redrives: match item.get(attr::REDRIVES) {
            None => Vec::new(),
            Some(v) => {
                serde_dynamo::from_attribute_value(v.clone()).map_err(|_| malformed("redrives are unreadable"))?
            }
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_contact_round_trips_and_is_pending() {
        let first = crate::flow_log::FlowRecordingSetting {
            contact_id: ContactId::parse("955c07e1-af64-4094-9c16-c59995ecdcbe").unwrap(),
            instance_id: InstanceId::parse("bd7c61d1-6722-4b4f-8c9c-6253e5a85c32").unwrap(),
            at: parse("2023-08-29T10:29:58.120Z"),
            participants: vec!["Agent".into(), "Customer".into()],
            analytics: true,
        };
        let mut contact = Contact::initialised(first, parse("2023-08-29T10:30:00Z").unwrap());
        contact.recording_settings.extend([RecordingSetting::new(
            parse("2023-08-29T10:30:01Z").unwrap(),
            vec![],
            false,
        )]);
        let item = new_item(&contact);
        assert_eq!(text(&item, attr::SWEEP_STATE), Some("INITIALISED"));
        assert_eq!(from_item(&item).unwrap(), contact);
    }

    #[test]
    fn a_contact_whose_flow_only_turned_recording_off_is_kept_off_the_sweep() {
        let off = RecordingSetting::new(parse("2023-08-29T10:30:01Z").unwrap(), vec![], false);
        let contact = Contact::from_settings(
            ContactId::parse("955c07e1-af64-4094-9c16-c59995ecdcbe").unwrap(),
            InstanceId::parse("bd7c61d1-6722-4b4f-8c9c-6253e5a85c32").unwrap(),
            [off],
            parse("2023-08-29T10:30:02Z").unwrap(),
        );
        let item = new_item(&contact);
        assert_eq!(text(&item, attr::SWEEP_STATE), None);
        assert_eq!(from_item(&item).unwrap(), contact);
    }

    /// Items cached before issue 16 hold one setting in three attributes.
    #[test]
    fn an_item_from_before_the_settings_set_keeps_its_setting() {
        let item = HashMap::from([
            (attr::CONTACT_ID.to_owned(), s("955c07e1-af64-4094-9c16-c59995ecdcbe")),
            (attr::INSTANCE_ID.to_owned(), s("bd7c61d1-6722-4b4f-8c9c-6253e5a85c32")),
            (attr::STATE.to_owned(), s("INITIALISED")),
            (attr::INITIALISED_AT.to_owned(), s("2023-08-29T10:30:00.000Z")),
            (attr::REQUESTED_AT.to_owned(), s("2023-08-29T10:29:58.120Z")),
            (attr::PARTICIPANTS.to_owned(), AttributeValue::Ss(vec!["Customer".into(), "Agent".into()])),
            (attr::ANALYTICS.to_owned(), AttributeValue::Bool(true)),
        ]);
        let c = from_item(&item).unwrap();
        let only: Vec<_> = c.recording_settings.iter().cloned().collect();
        assert_eq!(
            only,
            [RecordingSetting::new(
                parse("2023-08-29T10:29:58.120Z").unwrap(),
                vec!["Agent".into(), "Customer".into()],
                true
            )]
        );
        assert_eq!(c.pending_work(), Some(ContactState::Initialised));
    }

    #[test]
    fn a_broken_item_is_malformed_not_a_panic() {
        let item = HashMap::from([(attr::CONTACT_ID.to_owned(), s("nope"))]);
        assert!(matches!(from_item(&item), Err(StoreError::Malformed { .. })));
    }
}
