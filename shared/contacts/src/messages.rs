//! The messages between the contact steps (in kit envelopes). The workflow id and
//! the correlation id are the contact id, so one contact's lines join across steps.

use kit::{Envelope, Message};
use serde::{Deserialize, Serialize};

use crate::contact::ContactId;

/// `contact.poll`: ask Connect where this contact is (recording-sweep → poll-contact).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollContact {
    pub contact_id: String,
}

impl Message for PollContact {
    const TYPE: &'static str = "contact.poll";
    const VERSION: u32 = 1;
}

/// `contact.check-recording`: look for the call's recording (recording-sweep → check-recording).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckRecording {
    pub contact_id: String,
}

impl Message for CheckRecording {
    const TYPE: &'static str = "contact.check-recording";
    const VERSION: u32 = 1;
}

/// `contact.recording-missing`: the alert. Ids and times only, never the caller's number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordingMissing {
    pub contact_id: String,
    pub instance_id: String,
    pub agent_connected_at: Option<String>,
    pub disconnected_at: Option<String>,
    pub checked_at: String,
    /// The bucket prefixes that were listed and found empty.
    pub looked_under: Vec<String>,
}

impl Message for RecordingMissing {
    const TYPE: &'static str = "contact.recording-missing";
    const VERSION: u32 = 1;
}

/// An envelope for one contact; `slot` makes the id deterministic per sweep (or per
/// alert), so a re-sent message carries the same id.
pub fn envelope<M: Message>(contact: &ContactId, slot: &str, payload: M) -> Envelope<M> {
    Envelope::new(contact.as_str(), contact.as_str(), payload).with_id(format!("{}:{contact}:{slot}", M::TYPE))
}
