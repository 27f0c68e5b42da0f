//! Amazon Connect flow-log lines and the CloudWatch Logs subscription payload that
//! carries them to `ingest-connect-logs`, as the contacts tests and the chaos suite
//! send them.

use contacts::ContactId;
use serde_json::{json, Value};

/// A flow log line of the recording block for contact `id` of Connect instance
/// `instance`, turning recording on. It ran a minute ago: a block in the inbound
/// flow runs before the call reaches an agent (and whether recording is expected
/// is read against the agent's connection time).
pub fn recording_line(instance: &str, id: &ContactId) -> Value {
    setting_line(instance, id, chrono::Utc::now() - chrono::Duration::minutes(1), true)
}

/// A flow log line of the recording block run at `at`, turning recording on or off.
pub fn setting_line(instance: &str, id: &ContactId, at: chrono::DateTime<chrono::Utc>, enable: bool) -> Value {
    json!({
        "ContactId": id.as_str(),
        "ContactFlowId": format!("arn:aws:connect:eu-west-2:123456789012:instance/{instance}/contact-flow/f"),
        "ContactFlowName": "Inbound",
        "ContactFlowModuleType": "SetRecordingBehavior",
        "Identifier": "Set recording and analytics behavior",
        "Timestamp": at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "Parameters": {
            "RecordingBehaviorOption": if enable { "Enable" } else { "Disable" },
            "RecordingParticipantOption": "Both",
        },
    })
}

/// CloudWatch Logs' subscription payload (`{"awslogs": {"data": …}}`) carrying `lines`.
pub fn delivery(lines: &[Value]) -> Value {
    let events: Vec<Value> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| json!({"id": i.to_string(), "timestamp": 0, "message": l.to_string()}))
        .collect();
    contacts::subscription::encode(&json!({
        "messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": "/aws/connect/test",
        "logStream": "s", "subscriptionFilters": ["f"], "logEvents": events,
    }))
}
