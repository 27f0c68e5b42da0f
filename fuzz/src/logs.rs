//! CloudWatch Logs subscription deliveries to ingest-connect-logs, layer by layer:
//! `awslogs.data` as arbitrary text, base64 of arbitrary bytes, base64 of damaged
//! gzip, gzip of arbitrary JSON, and real envelopes whose log events are arbitrary
//! Amazon Connect flow-log lines. A delivery is ingested with every event counted,
//! or refused as a malformed payload (permanent) that quotes nothing it carried.

use std::io::Write;

use base64::Engine as _;
use contacts::testing::MemoryContactStore;
use contacts::usecases::ingest;
use contacts::{ContactError, ContactId};
use kit::{Classify, ErrorClass};
use proptest::prelude::*;
use serde_json::{json, Value};

use crate::support::{block_on, json_tree, now, text, EMAIL, EMAIL_PART};

/// A caller's number, as flow logs can quote customer input.
const PHONE: &str = "+447700900123";
const CONTACT: &str = "955c07e1-af64-4094-9c16-c59995ecdcbe";
const FLOW: &str =
    "arn:aws:connect:eu-west-2:123456789012:instance/bd7c61d1-6722-4b4f-8c9c-6253e5a85c32/contact-flow/f1";

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

fn event(data: &str) -> Value {
    json!({ "awslogs": { "data": data } })
}

fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Ingests `payload`; checks what a refusal says and that every event is counted.
fn ingested(payload: &Value) -> Result<(), TestCaseError> {
    let store = MemoryContactStore::default();
    match block_on(ingest(&store, payload, now())) {
        Ok(summary) => {
            // A control message carries no flow logs; otherwise each event is a
            // recording setting or ignored, and each contact named is new, updated or
            // a repeat.
            let control = contacts::subscription::decode(payload).is_ok_and(|d| d.is_control());
            let counted = summary.recording_settings + summary.ignored;
            let expected = if control { 0 } else { summary.log_events };
            prop_assert_eq!(counted, expected, "events unaccounted for: {:?}", summary);
            prop_assert_eq!(
                summary.contacts,
                summary.cached + summary.updated + summary.already_cached,
                "{:?}",
                summary
            );
            prop_assert!(summary.contacts <= summary.recording_settings, "{:?}", summary);
            prop_assert_eq!(summary.cached, store.all().len());
            for contact in store.all() {
                let id = contact.contact_id.as_str();
                prop_assert_eq!(ContactId::parse(id).map(|c| c.as_str().to_owned()), Ok(id.to_owned()));
            }
        }
        Err(e) => {
            let reason = kit::error::chain(&e);
            prop_assert!(matches!(e, ContactError::Payload(_)), "not a payload error: {}", reason);
            prop_assert_eq!(e.class(), ErrorClass::Permanent);
            prop_assert_eq!(e.kind(), "malformed_payload");
            for secret in [EMAIL_PART, PHONE] {
                prop_assert!(!reason.contains(secret), "the reason quotes the payload: {}", reason);
            }
        }
    }
    Ok(())
}

/// A flow-log line: a real block's shape with any of its fields changed.
fn flow_line() -> impl Strategy<Value = String> {
    let block = prop_oneof![
        3 => prop::sample::select(vec![
            "SetRecordingBehavior", "SetRecordingAndAnalyticsBehavior", "UpdateContactRecordingBehavior",
            "UpdateContactRecordingAndAnalyticsBehavior", "SetQueue", "setrecordingbehavior",
        ]).prop_map(Value::from),
        1 => json_tree(&["ContactFlowModuleType"]),
    ];
    let option = prop_oneof![
        prop::sample::select(vec!["Enable", "enabled", " TRUE ", "Disable", "", "Both", "Agent", "customer"])
            .prop_map(Value::from),
        json_tree(&["Enabled"]),
    ];
    let params = prop_oneof![
        (option.clone(), option.clone(), option.clone()).prop_map(|(b, p, a)| json!({
            "RecordingBehaviorOption": b, "RecordingParticipantOption": p, "AnalyticsBehaviorOption": a,
        })),
        (json_tree(&["Agent", "Customer"]), option.clone()).prop_map(|(list, a)| json!({
            "RecordingBehavior": {"RecordedParticipants": list}, "AnalyticsBehavior": {"Enabled": a},
        })),
        json_tree(&[
            "RecordingBehaviorOption",
            "RecordingParticipantOption",
            "RecordingBehavior",
            "RecordedParticipants",
            "AnalyticsBehaviorOption",
            "AnalyticsBehavior",
            "VoiceBehavior",
            "VoiceAnalyticsBehavior",
            "Enabled"
        ]),
    ];
    let contact = prop_oneof![2 => Just(Value::from(CONTACT)), 1 => Just(Value::from(CONTACT.to_uppercase())), 2 => text().prop_map(Value::from), 1 => json_tree(&["ContactId"])];
    let flow = prop_oneof![
        2 => Just(FLOW.to_owned()),
        2 => text().prop_map(|t| format!("arn:aws:connect:eu-west-2:1:instance/{t}")),
        1 => text(),
    ];
    let time = prop_oneof![Just("2023-08-29T10:29:58.120Z".to_owned()), text()];
    prop_oneof![
        6 => (block, params, contact, flow, time).prop_map(|(block, params, contact, flow, time)| json!({
            "ContactId": contact, "ContactFlowId": flow, "ContactFlowName": "Inbound",
            "ContactFlowModuleType": block, "Timestamp": time, "Parameters": params,
            "CustomerEndpoint": PHONE, "Email": EMAIL,
        }).to_string()),
        1 => "\\PC{0,200}",
        1 => json_tree(&["ContactId", "ContactFlowId", "ContactFlowModuleType", "Parameters"]).prop_map(|v| v.to_string()),
    ]
}

/// What CloudWatch Logs delivers, with any log events.
fn logs_data() -> impl Strategy<Value = Value> {
    let message_type = prop_oneof![
        4 => Just(Value::from("DATA_MESSAGE")),
        1 => Just(Value::from("CONTROL_MESSAGE")),
        1 => json_tree(&["messageType"]),
    ];
    let events = prop::collection::vec(
        (any::<u8>(), flow_line())
            .prop_map(|(id, message)| json!({"id": id.to_string(), "timestamp": 1693304998120i64, "message": message})),
        0..12,
    );
    (message_type, events).prop_map(|(message_type, events)| {
        json!({
            "messageType": message_type, "owner": "123456789012", "logGroup": "/aws/connect/example",
            "logStream": "2023/08/29/stream", "subscriptionFilters": ["connect-recording"], "logEvents": events,
        })
    })
}

proptest! {
    #[test]
    fn any_event_shape_is_ingested_or_refused(payload in json_tree(&["awslogs", "data"])) {
        ingested(&payload)?;
    }

    #[test]
    fn any_data_text_is_refused_as_malformed(data in prop_oneof!["\\PC{0,300}", "[A-Za-z0-9+/=]{0,300}", "[A-Za-z0-9+/]{4,300}"]) {
        ingested(&event(&data))?;
    }

    #[test]
    fn base64_of_any_bytes_is_refused_as_malformed(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        ingested(&event(&base64(&bytes)))?;
    }

    #[test]
    fn damaged_gzip_is_refused_as_malformed(
        data in logs_data(),
        cut in any::<prop::sample::Index>(),
        flip in proptest::option::of((any::<prop::sample::Index>(), 1u8..=255)),
    ) {
        let mut bytes = gzip(data.to_string().as_bytes());
        if let Some((at, mask)) = flip {
            let i = at.index(bytes.len());
            bytes[i] ^= mask;
        } else {
            bytes.truncate(cut.index(bytes.len()));
        }
        ingested(&event(&base64(&bytes)))?;
    }

    #[test]
    fn gzip_of_any_json_is_ingested_or_refused(value in json_tree(&["messageType", "logGroup", "logStream", "logEvents", "id", "timestamp", "message"])) {
        ingested(&event(&base64(&gzip(value.to_string().as_bytes()))))?;
    }

    #[test]
    fn any_flow_log_lines_are_ingested_and_counted(data in logs_data()) {
        ingested(&event(&base64(&gzip(data.to_string().as_bytes()))))?;
    }

    #[test]
    fn a_recognised_flow_line_names_its_contact_and_who_is_recorded_if_anyone(line in flow_line()) {
        if let Ok(request) = contacts::flow_log::recognise(&line) {
            let sent: Value = serde_json::from_str(&line).unwrap();
            let sent_id = sent["ContactId"].as_str().and_then(|id| ContactId::parse(id).ok());
            prop_assert_eq!(Some(&request.contact_id), sent_id.as_ref());
            // Nobody (recording turned off), or who is recorded.
            prop_assert!(request.participants.iter().all(|p| p == "Agent" || p == "Customer"), "{:?}", request.participants);
        }
    }
}
