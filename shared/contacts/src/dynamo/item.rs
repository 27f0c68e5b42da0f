//! Contacts ⇄ items, at the edge. Attribute names live here only.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};

use crate::contact::{Contact, ContactId, InstanceId};
use crate::flow_log::RecordingRequested;
use crate::ports::StoreError;
use crate::state::{ContactState, RecordingState};
use crate::time::{parse, render};

pub mod attr {
    pub const CONTACT_ID: &str = "contact_id";
    pub const INSTANCE_ID: &str = "instance_id";
    pub const STATE: &str = "state";
    pub const STATE_RANK: &str = "state_rank";
    /// Present while the contact has work left (equal to `state`): the sparse index's key.
    pub const SWEEP_STATE: &str = "sweep_state";
    pub const REQUESTED_AT: &str = "requested_at";
    pub const PARTICIPANTS: &str = "recording_participants";
    pub const ANALYTICS: &str = "analytics_requested";
    pub const INITIALISED_AT: &str = "initialised_at";
    pub const INITIATED_AT: &str = "initiated_at";
    pub const AGENT_CONNECTED_AT: &str = "agent_connected_at";
    pub const DISCONNECTED_AT: &str = "disconnected_at";
    pub const POLLED_AT: &str = "polled_at";
    pub const RECORDING_STATE: &str = "recording_state";
    pub const RECORDING_CHECKED_AT: &str = "recording_checked_at";
    pub const RECORDING_KEY: &str = "recording_key";
    pub const ALERT_SENT_AT: &str = "alert_sent_at";
    /// Until when one attempt may send the alert (two at once would send two).
    pub const ALERT_CLAIM_UNTIL: &str = "alert_claim_until";
    pub const CLOSED_REASON: &str = "closed_reason";
    pub const UPDATED_AT: &str = "updated_at";
    /// TTL (epoch seconds): contacts are kept for `RETENTION_DAYS`.
    pub const EXPIRES_AT: &str = "expires_at";
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
        (attr::ANALYTICS.to_owned(), AttributeValue::Bool(contact.requested.analytics)),
        (attr::INITIALISED_AT.to_owned(), ts(contact.initialised_at)),
        (attr::UPDATED_AT.to_owned(), ts(contact.updated_at)),
        (attr::EXPIRES_AT.to_owned(), n((contact.initialised_at + chrono::Duration::days(RETENTION_DAYS)).timestamp())),
    ]);
    if let Some(state) = contact.pending_work() {
        item.insert(attr::SWEEP_STATE.to_owned(), s(state.as_str()));
    }
    if !contact.requested.participants.is_empty() {
        item.insert(attr::PARTICIPANTS.to_owned(), AttributeValue::Ss(contact.requested.participants.clone()));
    }
    if let Some(t) = contact.requested.requested_at {
        item.insert(attr::REQUESTED_AT.to_owned(), ts(t));
    }
    item
}

fn text<'a>(item: &'a HashMap<String, AttributeValue>, name: &str) -> Option<&'a str> {
    item.get(name).and_then(|v| v.as_s().ok()).map(String::as_str)
}

fn time(item: &HashMap<String, AttributeValue>, name: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
    match text(item, name) {
        None => Ok(None),
        Some(raw) => parse(raw).map(Some).ok_or_else(|| StoreError::Malformed(format!("{name} is not a time"))),
    }
}

fn required<'a>(item: &'a HashMap<String, AttributeValue>, name: &str) -> Result<&'a str, StoreError> {
    text(item, name).ok_or_else(|| StoreError::Malformed(format!("{name} is missing")))
}

pub(crate) fn from_item(item: &HashMap<String, AttributeValue>) -> Result<Contact, StoreError> {
    let malformed = |what: &str| StoreError::Malformed(what.to_owned());
    let contact_id = ContactId::parse(required(item, attr::CONTACT_ID)?).map_err(|e| malformed(&e.to_string()))?;
    let instance_id = InstanceId::parse(required(item, attr::INSTANCE_ID)?).map_err(|e| malformed(&e.to_string()))?;
    let state = ContactState::parse(required(item, attr::STATE)?).ok_or_else(|| malformed("unknown state"))?;
    let recording_state = match text(item, attr::RECORDING_STATE) {
        None => None,
        Some(raw) => Some(RecordingState::parse(raw).ok_or_else(|| malformed("unknown recording state"))?),
    };
    let initialised_at = time(item, attr::INITIALISED_AT)?.ok_or_else(|| malformed("initialised_at is missing"))?;
    let mut participants: Vec<String> =
        item.get(attr::PARTICIPANTS).and_then(|v| v.as_ss().ok()).cloned().unwrap_or_default();
    participants.sort();
    Ok(Contact {
        requested: RecordingRequested {
            contact_id: contact_id.clone(),
            instance_id: instance_id.clone(),
            requested_at: time(item, attr::REQUESTED_AT)?,
            participants,
            analytics: item.get(attr::ANALYTICS).and_then(|v| v.as_bool().ok()).copied().unwrap_or(false),
        },
        contact_id,
        instance_id,
        state,
        initialised_at,
        initiated_at: time(item, attr::INITIATED_AT)?,
        agent_connected_at: time(item, attr::AGENT_CONNECTED_AT)?,
        disconnected_at: time(item, attr::DISCONNECTED_AT)?,
        polled_at: time(item, attr::POLLED_AT)?,
        recording_state,
        recording_checked_at: time(item, attr::RECORDING_CHECKED_AT)?,
        recording_key: text(item, attr::RECORDING_KEY).map(str::to_owned),
        alert_sent_at: time(item, attr::ALERT_SENT_AT)?,
        closed_reason: text(item, attr::CLOSED_REASON).map(str::to_owned),
        updated_at: time(item, attr::UPDATED_AT)?.unwrap_or(initialised_at),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_contact_round_trips_and_is_pending() {
        let requested = RecordingRequested {
            contact_id: ContactId::parse("955c07e1-af64-4094-9c16-c59995ecdcbe").unwrap(),
            instance_id: InstanceId::parse("bd7c61d1-6722-4b4f-8c9c-6253e5a85c32").unwrap(),
            requested_at: parse("2023-08-29T10:29:58.120Z"),
            participants: vec!["Agent".into(), "Customer".into()],
            analytics: true,
        };
        let contact = Contact::initialised(requested, parse("2023-08-29T10:30:00Z").unwrap());
        let item = new_item(&contact);
        assert_eq!(text(&item, attr::SWEEP_STATE), Some("INITIALISED"));
        assert_eq!(from_item(&item).unwrap(), contact);
    }

    #[test]
    fn a_broken_item_is_malformed_not_a_panic() {
        let item = HashMap::from([(attr::CONTACT_ID.to_owned(), s("nope"))]);
        assert!(matches!(from_item(&item), Err(StoreError::Malformed(_))));
    }
}
