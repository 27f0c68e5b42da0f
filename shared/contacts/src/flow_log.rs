//! Recognising the flow-log events that set a contact's recording behaviour.
//!
//! Connect logs one JSON object per flow block that runs (`ContactId`,
//! `ContactFlowId` (an ARN naming the instance), `ContactFlowModuleType`,
//! `Timestamp`, `Parameters`). The "Set recording and analytics behavior" block
//! logs as `SetRecordingBehavior`; its flow-language form as
//! `UpdateContactRecordingBehavior` / `UpdateContactRecordingAndAnalyticsBehavior`.
//! Both parameter dialects are read: `RecordingBehaviorOption: Enable` with
//! `RecordingParticipantOption`, or `RecordingBehavior.RecordedParticipants`.
//! Everything else is another block's line and is ignored.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::contact::{ContactId, InstanceId};

/// Block types that set recording behaviour.
const RECORDING_BLOCKS: &[&str] = &[
    "SetRecordingBehavior",
    "SetRecordingAndAnalyticsBehavior",
    "UpdateContactRecordingBehavior",
    "UpdateContactRecordingAndAnalyticsBehavior",
];

/// A contact whose flow asked for it to be recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingRequested {
    pub contact_id: ContactId,
    pub instance_id: InstanceId,
    /// The log event's `Timestamp` (when the block ran).
    pub requested_at: Option<DateTime<Utc>>,
    /// Who is recorded: `Agent`, `Customer`, or both.
    pub participants: Vec<String>,
    /// Contact Lens analytics asked for too.
    pub analytics: bool,
}

/// Why a log line is not a recording request (counted, never an error).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ignored {
    NotJson,
    OtherBlock,
    RecordingNotEnabled,
    /// A recording block whose ids cannot be read: logged as a warning, since it
    /// is a contact we will not watch.
    Unreadable,
}

impl Ignored {
    pub fn as_str(self) -> &'static str {
        match self {
            Ignored::NotJson => "not_json",
            Ignored::OtherBlock => "other_block",
            Ignored::RecordingNotEnabled => "recording_not_enabled",
            Ignored::Unreadable => "unreadable_recording_block",
        }
    }
}

/// Reads one log event's message.
pub fn recognise(message: &str) -> Result<RecordingRequested, Ignored> {
    let value: Value = serde_json::from_str(message).map_err(|_| Ignored::NotJson)?;
    let event = value.as_object().ok_or(Ignored::NotJson)?;
    let block = event.get("ContactFlowModuleType").and_then(Value::as_str).unwrap_or_default();
    if !RECORDING_BLOCKS.contains(&block) {
        return Err(Ignored::OtherBlock);
    }
    let empty = Map::new();
    let params = event.get("Parameters").and_then(Value::as_object).unwrap_or(&empty);
    let participants = recorded_participants(params);
    if participants.is_empty() {
        return Err(Ignored::RecordingNotEnabled);
    }
    let contact_id = event
        .get("ContactId")
        .and_then(Value::as_str)
        .and_then(|id| ContactId::parse(id).ok())
        .ok_or(Ignored::Unreadable)?;
    let instance_id =
        event.get("ContactFlowId").and_then(Value::as_str).and_then(InstanceId::from_arn).ok_or(Ignored::Unreadable)?;
    Ok(RecordingRequested {
        contact_id,
        instance_id,
        requested_at: event.get("Timestamp").and_then(Value::as_str).and_then(crate::time::parse),
        participants,
        analytics: analytics_enabled(params),
    })
}

fn yes(v: Option<&Value>) -> bool {
    v.and_then(Value::as_str)
        .map(|s| ["enable", "enabled", "true"].contains(&s.trim().to_ascii_lowercase().as_str()))
        .unwrap_or(false)
}

/// Who the block records; empty when it turns recording off.
fn recorded_participants(params: &Map<String, Value>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let listed = params.get("RecordingBehavior").and_then(|r| r.get("RecordedParticipants")).and_then(Value::as_array);
    if let Some(list) = listed {
        out.extend(list.iter().filter_map(Value::as_str).filter_map(participant));
    } else if yes(params.get("RecordingBehaviorOption")) {
        match params.get("RecordingParticipantOption").and_then(Value::as_str).map(str::trim) {
            Some(p) if p.eq_ignore_ascii_case("both") => out.extend(["Agent".to_owned(), "Customer".to_owned()]),
            Some(p) => out.extend(participant(p)),
            // Enabled without saying whom: Connect's default records both.
            None => out.extend(["Agent".to_owned(), "Customer".to_owned()]),
        }
    }
    out.sort();
    out.dedup();
    out
}

fn participant(raw: &str) -> Option<String> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "agent" => Some("Agent".to_owned()),
        "customer" => Some("Customer".to_owned()),
        _ => None,
    }
}

fn analytics_enabled(params: &Map<String, Value>) -> bool {
    yes(params.get("AnalyticsBehaviorOption"))
        || yes(params.get("AnalyticsBehavior").and_then(|a| a.get("Enabled")))
        || yes(params.get("VoiceBehavior").and_then(|v| v.pointer("/VoiceAnalyticsBehavior/Enabled")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const FLOW: &str =
        "arn:aws:connect:eu-west-2:123456789012:instance/bd7c61d1-6722-4b4f-8c9c-6253e5a85c32/contact-flow/f1";
    const CONTACT: &str = "955c07e1-af64-4094-9c16-c59995ecdcbe";

    fn line(block: &str, params: Value) -> String {
        json!({
            "ContactId": CONTACT,
            "ContactFlowId": FLOW,
            "ContactFlowName": "Inbound",
            "ContactFlowModuleType": block,
            "Timestamp": "2023-08-29T10:29:58.120Z",
            "Parameters": params,
        })
        .to_string()
    }

    #[test]
    fn the_recording_block_is_recognised_with_what_it_asked_for() {
        let got = recognise(&line(
            "SetRecordingBehavior",
            json!({"RecordingBehaviorOption": "Enable", "RecordingParticipantOption": "Both", "AnalyticsBehaviorOption": "Enable"}),
        ))
        .unwrap();
        assert_eq!(got.contact_id.as_str(), CONTACT);
        assert_eq!(got.instance_id.as_str(), "bd7c61d1-6722-4b4f-8c9c-6253e5a85c32");
        assert_eq!(got.participants, ["Agent", "Customer"]);
        assert!(got.analytics);
        assert_eq!(crate::time::render(got.requested_at.unwrap()), "2023-08-29T10:29:58.120Z");
    }

    #[test]
    fn the_flow_language_dialect_is_read_too() {
        let got = recognise(&line(
            "UpdateContactRecordingBehavior",
            json!({"RecordingBehavior": {"RecordedParticipants": ["Agent"]}, "AnalyticsBehavior": {"Enabled": "False"}}),
        ))
        .unwrap();
        assert_eq!(got.participants, ["Agent"]);
        assert!(!got.analytics);
    }

    #[test]
    fn other_lines_are_ignored_with_a_reason() {
        assert_eq!(recognise("START RequestId: 1"), Err(Ignored::NotJson));
        assert_eq!(recognise(&line("SetQueue", json!({"Queue": "arn"}))), Err(Ignored::OtherBlock));
        assert_eq!(
            recognise(&line("SetRecordingBehavior", json!({"RecordingBehaviorOption": "Disable"}))),
            Err(Ignored::RecordingNotEnabled)
        );
        assert_eq!(
            recognise(&line(
                "UpdateContactRecordingBehavior",
                json!({"RecordingBehavior": {"RecordedParticipants": []}})
            )),
            Err(Ignored::RecordingNotEnabled)
        );
        let no_instance = line("SetRecordingBehavior", json!({"RecordingBehaviorOption": "Enable"})).replace(FLOW, "x");
        assert_eq!(recognise(&no_instance), Err(Ignored::Unreadable));
    }
}
