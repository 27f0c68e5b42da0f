//! The CloudWatch Logs subscription payload: `{"awslogs": {"data": base64(gzip(json))}}`,
//! the JSON being `{messageType, logGroup, logStream, logEvents: [{id, timestamp, message}]}`.

use std::io::Read;

use base64::Engine as _;
use serde::Deserialize;

/// A decompressed payload larger than this is refused: CloudWatch Logs delivers at
/// most about 1 MB of events per invocation, so more is not a real delivery.
const MAX_DECOMPRESSED_BYTES: u64 = 8 * 1024 * 1024;

/// Why a payload cannot be read. Always permanent: the same bytes fail the same way.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    #[error("the event has no awslogs.data string")]
    MissingData,
    #[error("awslogs.data is not base64")]
    NotBase64,
    #[error("awslogs.data is not gzip: {0}")]
    NotGzip(String),
    #[error("the decompressed payload is larger than {MAX_DECOMPRESSED_BYTES} bytes")]
    TooLarge,
    #[error("the decompressed payload is not CloudWatch Logs data: {0}")]
    NotLogsData(String),
}

#[derive(Debug, Clone, Deserialize)]
pub struct SubscriptionEvent {
    pub awslogs: Option<AwsLogs>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AwsLogs {
    pub data: Option<String>,
}

/// What the subscription delivered.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogsData {
    /// `DATA_MESSAGE`, or `CONTROL_MESSAGE` (CloudWatch checking the destination).
    pub message_type: String,
    #[serde(default)]
    pub log_group: String,
    #[serde(default)]
    pub log_stream: String,
    #[serde(default)]
    pub log_events: Vec<LogEvent>,
}

impl LogsData {
    pub fn is_control(&self) -> bool {
        self.message_type == "CONTROL_MESSAGE"
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct LogEvent {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub timestamp: i64,
    pub message: String,
}

/// Decodes a subscription event. Serde's messages are redacted: the payload holds
/// flow logs, which can quote customer input.
pub fn decode(event: &serde_json::Value) -> Result<LogsData, PayloadError> {
    let data = event.pointer("/awslogs/data").and_then(serde_json::Value::as_str).ok_or(PayloadError::MissingData)?;
    let compressed =
        base64::engine::general_purpose::STANDARD.decode(data.trim()).map_err(|_| PayloadError::NotBase64)?;
    let mut json = Vec::new();
    flate2::read::GzDecoder::new(compressed.as_slice())
        .take(MAX_DECOMPRESSED_BYTES + 1)
        .read_to_end(&mut json)
        .map_err(|e| PayloadError::NotGzip(e.to_string()))?;
    if json.len() as u64 > MAX_DECOMPRESSED_BYTES {
        return Err(PayloadError::TooLarge);
    }
    serde_json::from_slice(&json).map_err(|e| PayloadError::NotLogsData(kit::decode::redacted(&e)))
}

/// Builds a payload as CloudWatch Logs would (tests, fixtures, the demo's generator).
pub fn encode(data: &serde_json::Value) -> serde_json::Value {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing to a Vec cannot fail.
    let _ = gz.write_all(data.to_string().as_bytes());
    let bytes = gz.finish().unwrap_or_default();
    serde_json::json!({ "awslogs": { "data": base64::engine::general_purpose::STANDARD.encode(bytes) } })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn logs(messages: &[&str]) -> serde_json::Value {
        json!({
            "messageType": "DATA_MESSAGE",
            "owner": "123456789012",
            "logGroup": "/aws/connect/example",
            "logStream": "2023/08/29/stream",
            "subscriptionFilters": ["connect-recording"],
            "logEvents": messages.iter().enumerate()
                .map(|(i, m)| json!({"id": i.to_string(), "timestamp": 1693304998120i64, "message": m}))
                .collect::<Vec<_>>(),
        })
    }

    #[test]
    fn round_trips_a_delivery() {
        let got = decode(&encode(&logs(&["a", "b"]))).unwrap();
        assert_eq!(got.log_events.len(), 2);
        assert_eq!(got.log_events[1].message, "b");
        assert!(!got.is_control());
    }

    #[test]
    fn malformed_payloads_say_why() {
        assert_eq!(decode(&json!({})), Err(PayloadError::MissingData));
        assert_eq!(decode(&json!({"awslogs": {"data": "%%%"}})), Err(PayloadError::NotBase64));
        assert!(matches!(decode(&json!({"awslogs": {"data": "aGVsbG8="}})), Err(PayloadError::NotGzip(_))));
        let not_logs = encode(&json!({"hello": "+447700900123"}));
        let err = decode(&not_logs).unwrap_err();
        assert!(matches!(err, PayloadError::NotLogsData(_)), "{err}");
        assert!(!err.to_string().contains("+44"), "{err}");
    }

    #[test]
    fn a_decompression_bomb_is_refused() {
        let big = "x".repeat((MAX_DECOMPRESSED_BYTES + 10) as usize);
        let payload = encode(&json!(big));
        assert_eq!(decode(&payload), Err(PayloadError::TooLarge));
    }
}
