//! Amazon Connect flow-log lines and the CloudWatch Logs subscription payload that
//! carries them to `ingest-connect-logs`, as the contacts tests and the chaos suite
//! send them.

use contacts::ContactId;
use serde_json::{json, Value};

/// A flow log line of the recording block for contact `id` of Connect instance `instance`.
pub fn recording_line(instance: &str, id: &ContactId) -> Value {
    json!({
        "ContactId": id.as_str(),
        "ContactFlowId": format!("arn:aws:connect:eu-west-2:123456789012:instance/{instance}/contact-flow/f"),
        "ContactFlowName": "Inbound",
        "ContactFlowModuleType": "SetRecordingBehavior",
        "Timestamp": chrono::Utc::now().to_rfc3339(),
        "Parameters": {"RecordingBehaviorOption": "Enable", "RecordingParticipantOption": "Both"},
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
