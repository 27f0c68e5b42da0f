//! Recognising the flow-log events that set a contact's recording behaviour.
//!
//! Connect logs one JSON object per flow block that runs (`ContactId`,
//! `ContactFlowId` (an ARN naming the instance), `ContactFlowModuleType`,
//! `Timestamp`, `Parameters`), and only while the flow's logging is on (the "Set
//! logging behavior" block): a flow without it is never seen here. The "Set
//! recording and analytics behavior" block logs as `SetRecordingBehavior`; its
//! flow-language forms as `UpdateContactRecordingBehavior` /
//! `UpdateContactRecordingAndAnalyticsBehavior`. Three parameter dialects are read:
//! `RecordingBehaviorOption: Enable|Disable` with `RecordingParticipantOption`;
//! `RecordingBehavior.RecordedParticipants` (an empty list disables recording); and
//! `VoiceBehavior.VoiceRecordingBehavior.RecordedParticipants`. A block that turns
//! recording off is recognised as much as one that turns it on: which one was in
//! force when the agent connected is decided later (see [`crate::expectation`]).

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::contact::{ContactId, InstanceId};
use crate::expectation::RecordingSetting;

/// Block types that set recording behaviour.
const RECORDING_BLOCKS: &[&str] = &[
    "SetRecordingBehavior",
    "SetRecordingAndAnalyticsBehavior",
    "UpdateContactRecordingBehavior",
    "UpdateContactRecordingAndAnalyticsBehavior",
];

/// One recording block a contact's flow ran: who it records (nobody: recording off).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowRecordingSetting {
    pub contact_id: ContactId,
    pub instance_id: InstanceId,
    /// The log line's `Timestamp` (when the block ran), if it could be read.
    pub at: Option<DateTime<Utc>>,
    /// Who is recorded: `Agent`, `Customer`, both, or nobody (recording turned off).
    pub participants: Vec<String>,
    /// Contact Lens analytics asked for too.
    pub analytics: bool,
}

impl FlowRecordingSetting {
    /// The setting, timed by the line's own `Timestamp`, else by `fallback` (the
    /// CloudWatch event's time, which Connect sets when it writes the line).
    pub fn setting(&self, fallback: DateTime<Utc>) -> RecordingSetting {
        RecordingSetting::new(self.at.unwrap_or(fallback), self.participants.clone(), self.analytics)
    }
}

/// Why a log line is not a recording setting (counted, never an error).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ignored {
    NotJson,
    OtherBlock,
    /// A recording block that says nothing about voice recording (chat or
    /// analytics settings only).
    NoVoiceRecording,
    /// A recording block whose ids cannot be read: logged as a warning, since it
    /// is a contact we will not watch.
    Unreadable,
}

impl Ignored {
    pub fn as_str(self) -> &'static str {
        match self {
            Ignored::NotJson => "not_json",
            Ignored::OtherBlock => "other_block",
            Ignored::NoVoiceRecording => "no_voice_recording_setting",
            Ignored::Unreadable => "unreadable_recording_block",
        }
    }
}

/// Reads one log event's message.
pub fn recognise(message: &str) -> Result<FlowRecordingSetting, Ignored> {
    let value: Value = serde_json::from_str(message).map_err(|_| Ignored::NotJson)?;
    let event = value.as_object().ok_or(Ignored::NotJson)?;
    let block = event.get("ContactFlowModuleType").and_then(Value::as_str).unwrap_or_default();
    if !RECORDING_BLOCKS.contains(&block) {
        return Err(Ignored::OtherBlock);
    }
    let empty = Map::new();
    let params = event.get("Parameters").and_then(Value::as_object).unwrap_or(&empty);
    let participants = voice_recording(params).ok_or(Ignored::NoVoiceRecording)?;
    let contact_id = event
        .get("ContactId")
        .and_then(Value::as_str)
        .and_then(|id| ContactId::parse(id).ok())
        .ok_or(Ignored::Unreadable)?;
    let instance_id =
        event.get("ContactFlowId").and_then(Value::as_str).and_then(InstanceId::from_arn).ok_or(Ignored::Unreadable)?;
    Ok(FlowRecordingSetting {
        contact_id,
        instance_id,
        at: event.get("Timestamp").and_then(Value::as_str).and_then(crate::time::parse),
        participants,
        analytics: analytics_enabled(params),
    })
}

fn yes(v: Option<&Value>) -> bool {
    v.and_then(Value::as_str)
        .map(|s| ["enable", "enabled", "true"].contains(&s.trim().to_ascii_lowercase().as_str()))
        .unwrap_or(false)
}

/// Who the block records (empty when it turns recording off), or None when it
/// does not set voice recording at all.
fn voice_recording(params: &Map<String, Value>) -> Option<Vec<String>> {
    let listed = params
        .get("RecordingBehavior")
        .and_then(|r| r.get("RecordedParticipants"))
        .or_else(|| params.get("VoiceBehavior")?.pointer("/VoiceRecordingBehavior/RecordedParticipants"))
        .and_then(Value::as_array);
    let mut out: Vec<String> = if let Some(list) = listed {
        list.iter().filter_map(Value::as_str).filter_map(participant).collect()
    } else if params.get("RecordingBehaviorOption").is_some() {
        if !yes(params.get("RecordingBehaviorOption")) {
            return Some(Vec::new());
        }
        match params.get("RecordingParticipantOption").and_then(Value::as_str).map(str::trim) {
            Some(p) if p.eq_ignore_ascii_case("both") => vec!["Agent".to_owned(), "Customer".to_owned()],
            Some(p) => participant(p).into_iter().collect(),
            // Enabled without saying whom: Connect's default records both.
            None => vec!["Agent".to_owned(), "Customer".to_owned()],
        }
    } else {
        return None;
    };
    out.sort();
    out.dedup();
    Some(out)
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
        assert_eq!(crate::time::render(got.at.unwrap()), "2023-08-29T10:29:58.120Z");
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
    fn the_voice_behaviour_dialect_is_read_and_chat_only_blocks_are_not_voice() {
        let got = recognise(&line(
            "UpdateContactRecordingAndAnalyticsBehavior",
            json!({"VoiceBehavior": {"VoiceRecordingBehavior": {"RecordedParticipants": ["Customer", "Agent"]}}}),
        ))
        .unwrap();
        assert_eq!(got.participants, ["Agent", "Customer"]);
        let chat = line(
            "UpdateContactRecordingAndAnalyticsBehavior",
            json!({"ChatBehavior": {"ChatAnalyticsBehavior": {"Enabled": "True"}}}),
        );
        assert_eq!(recognise(&chat), Err(Ignored::NoVoiceRecording));
    }

    /// Issue 16: a block that turns recording off is a setting too (it used to be
    /// dropped, so an opt-out branch after an enabling block went unseen).
    #[test]
    fn a_block_that_turns_recording_off_is_recognised_as_off() {
        for params in [
            json!({"RecordingBehaviorOption": "Disable"}),
            json!({"RecordingBehaviorOption": "Disabled", "RecordingParticipantOption": "Both"}),
            json!({"RecordingBehavior": {"RecordedParticipants": []}}),
            json!({"VoiceBehavior": {"VoiceRecordingBehavior": {"RecordedParticipants": []}}}),
        ] {
            let got =
                recognise(&line("SetRecordingBehavior", params.clone())).unwrap_or_else(|e| panic!("{params}: {e:?}"));
            assert!(got.participants.is_empty(), "{params}");
            assert!(!got.setting(chrono::Utc::now()).records());
        }
    }

    #[test]
    fn the_setting_is_timed_by_the_line_else_by_the_log_event() {
        let got = recognise(&line("SetRecordingBehavior", json!({"RecordingBehaviorOption": "Enable"}))).unwrap();
        let fallback = crate::time::parse("2030-01-01T00:00:00Z").unwrap();
        assert_eq!(crate::time::render(got.setting(fallback).at), "2023-08-29T10:29:58.120Z");
        let untimed = line("SetRecordingBehavior", json!({"RecordingBehaviorOption": "Enable"}))
            .replace("2023-08-29T10:29:58.120Z", "soon");
        assert_eq!(recognise(&untimed).unwrap().setting(fallback).at, fallback);
    }

    #[test]
    fn other_lines_are_ignored_with_a_reason() {
        assert_eq!(recognise("START RequestId: 1"), Err(Ignored::NotJson));
        assert_eq!(recognise(&line("SetQueue", json!({"Queue": "arn"}))), Err(Ignored::OtherBlock));
        assert_eq!(
            recognise(&line("SetRecordingBehavior", json!({"AnalyticsBehaviorOption": "Enable"}))),
            Err(Ignored::NoVoiceRecording)
        );
        let no_instance = line("SetRecordingBehavior", json!({"RecordingBehaviorOption": "Enable"})).replace(FLOW, "x");
        assert_eq!(recognise(&no_instance), Err(Ignored::Unreadable));
    }
}
