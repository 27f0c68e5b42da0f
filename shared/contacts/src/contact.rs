//! The contact record the workflow keeps, and the ids it is keyed by.

use std::fmt;

use chrono::{DateTime, Utc};

use crate::expectation::{expectation, Expectation, RecordingSetting, RecordingSettings};
use crate::flow_log::FlowRecordingSetting;
use crate::state::{ContactState, RecordingState};
use crate::view::Channel;

/// A Connect contact id (a UUID, as Connect issues them): parsed, so nothing else
/// can reach a table key, an S3 prefix or a log line.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContactId(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} is not a Connect id (a UUID)")]
pub struct InvalidId {
    pub what: &'static str,
}

fn uuid_text(raw: &str, what: &'static str) -> Result<String, InvalidId> {
    uuid::Uuid::parse_str(raw.trim()).map(|u| u.hyphenated().to_string()).map_err(|_| InvalidId { what })
}

impl ContactId {
    pub fn parse(raw: &str) -> Result<Self, InvalidId> {
        uuid_text(raw, "contact id").map(Self)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ContactId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A Connect instance id (the UUID in `arn:aws:connect:…:instance/{id}`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InstanceId(String);

impl InstanceId {
    pub fn parse(raw: &str) -> Result<Self, InvalidId> {
        uuid_text(raw, "instance id").map(Self)
    }

    /// The instance of any Connect ARN below it (`…:instance/{id}/contact-flow/…`).
    pub fn from_arn(arn: &str) -> Option<Self> {
        let rest = arn.strip_prefix("arn:")?.split_once(":instance/")?.1;
        Self::parse(rest.split('/').next()?).ok()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for InstanceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One contact as the table holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Contact {
    pub contact_id: ContactId,
    pub instance_id: InstanceId,
    pub state: ContactState,
    /// Every recording setting its flows logged, oldest first (whatever order the
    /// log batches came in): what decides whether a recording is expected.
    pub recording_settings: RecordingSettings,
    /// DescribeContact's `Channel`, once polled (only voice calls are recorded).
    pub channel: Option<Channel>,
    /// When the first log line was cached.
    pub initialised_at: DateTime<Utc>,
    pub initiated_at: Option<DateTime<Utc>>,
    pub agent_connected_at: Option<DateTime<Utc>>,
    pub disconnected_at: Option<DateTime<Utc>>,
    /// The last DescribeContact answer's time, whatever it said.
    pub polled_at: Option<DateTime<Utc>>,
    /// Set while a poll message is out for this contact (until then the sweep
    /// sends no other): the poll clears it, and it lapses if the message is lost.
    pub poll_claimed_until: Option<DateTime<Utc>>,
    pub recording_state: Option<RecordingState>,
    pub recording_checked_at: Option<DateTime<Utc>>,
    /// The object found in the recording bucket.
    pub recording_key: Option<String>,
    pub alert_sent_at: Option<DateTime<Utc>>,
    pub closed_reason: Option<String>,
    pub updated_at: DateTime<Utc>,
    /// Operators' redrives (`ops workflow redrive`), oldest first.
    pub redrives: Vec<kit::redrive::Redrive>,
}

impl Contact {
    /// A contact as ingest caches it from its first log line.
    pub fn initialised(first: FlowRecordingSetting, now: DateTime<Utc>) -> Self {
        Self::from_settings(first.contact_id.clone(), first.instance_id.clone(), [first.setting(now)], now)
    }

    /// A contact as ingest caches it from the settings one delivery held.
    pub fn from_settings(
        contact_id: ContactId,
        instance_id: InstanceId,
        settings: impl IntoIterator<Item = RecordingSetting>,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            contact_id,
            instance_id,
            state: ContactState::Initialised,
            recording_settings: RecordingSettings::new(settings),
            channel: None,
            initialised_at: now,
            initiated_at: None,
            agent_connected_at: None,
            disconnected_at: None,
            polled_at: None,
            poll_claimed_until: None,
            recording_state: None,
            recording_checked_at: None,
            recording_key: None,
            alert_sent_at: None,
            closed_reason: None,
            updated_at: now,
            redrives: Vec::new(),
        }
    }

    /// The state under which the sweep finds this contact, or None once no work is
    /// left: the sparse index's rule, kept by every write (and by the fakes).
    pub fn pending_work(&self) -> Option<ContactState> {
        if !self.recording_settings.any_records() {
            // Its flows only ever turned recording off: nothing to watch (yet).
            return None;
        }
        match (self.state, self.recording_state) {
            (ContactState::Closed, _) => None,
            // A missing recording stays swept until its alert is out (a lost
            // publish is repaired by the next sweep).
            (state, Some(RecordingState::Missing)) => self.alert_sent_at.is_none().then_some(state),
            (_, Some(_)) => None,
            (state, None) => Some(state),
        }
    }

    /// Whether the recording this call should have is known to be expected, from
    /// its settings and its agent's connection time.
    pub fn expectation(&self) -> Expectation {
        expectation(&self.recording_settings, self.agent_connected_at, self.disconnected_at)
    }

    /// When the call ended, as far as we know (the check's grace period counts from it).
    pub fn ended_at(&self) -> DateTime<Utc> {
        self.disconnected_at.or(self.polled_at).unwrap_or(self.updated_at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_uuids_normalised_to_lower_case() {
        let id = ContactId::parse(" 955C07E1-AF64-4094-9C16-C59995ECDCBE ").unwrap();
        assert_eq!(id.as_str(), "955c07e1-af64-4094-9c16-c59995ecdcbe");
        assert!(ContactId::parse("../../etc").is_err());
        assert!(ContactId::parse("").is_err());
    }

    #[test]
    fn instance_comes_from_any_arn_below_it() {
        let arn =
            "arn:aws:connect:af-south-1:687244881512:instance/bd7c61d1-6722-4b4f-8c9c-6253e5a85c32/contact-flow/x";
        assert_eq!(InstanceId::from_arn(arn).unwrap().as_str(), "bd7c61d1-6722-4b4f-8c9c-6253e5a85c32");
        assert_eq!(InstanceId::from_arn("arn:aws:connect:eu-west-2:1:instance/not-a-uuid"), None);
        assert_eq!(InstanceId::from_arn("Inbound flow"), None);
    }
}
