//! Compressed retry time: under a time scale, the SQS visibility timeouts the
//! functions ask for (the real durations, in whole seconds, as in AWS) are divided
//! by the factor before the emulator sees them. The emulator's launcher accepts
//! the fractional result (moto_server.py), so a 15-minute wait at a factor of 600
//! lasts 1.5 s and the schedule keeps its shape below one second.
//!
//! Only `ChangeMessageVisibility`, the call the step kit's backoff makes, is
//! compressed. A queue's own `VisibilityTimeout` (the redelivery after a crash or
//! a Lambda timeout) is a timeout, not a retry wait, and runs as shipped; the
//! batch form is not compressed (no function uses it, and moto truncates its
//! entries to whole seconds, which would make a compressed wait zero).

use axum::body::Bytes;
use axum::http::HeaderMap;
use kit::retry::TimeScale;
use serde_json::Value;

const CHANGE_ONE: &str = "AmazonSQS.ChangeMessageVisibility";

/// The request body to forward: `body` itself unless it is an SQS visibility
/// change (JSON protocol) and retries are compressed.
pub fn compress_visibility(scale: TimeScale, headers: &HeaderMap, body: Bytes) -> Bytes {
    if scale == TimeScale::REAL {
        return body;
    }
    let target = headers.get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or("");
    if target != CHANGE_ONE {
        return body;
    }
    let Ok(mut request) = serde_json::from_slice::<Value>(&body) else { return body };
    let Some(secs) = request.get("VisibilityTimeout").and_then(Value::as_f64) else { return body };
    // Zero keeps its meaning (visible at once); anything else shrinks, to the millisecond.
    request["VisibilityTimeout"] = Value::from((secs / scale.factor() * 1000.0).round() / 1000.0);
    serde_json::to_vec(&request).map(Bytes::from).unwrap_or(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn headers(target: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-amz-target", target.parse().unwrap());
        h
    }

    fn compressed(scale: f64, target: &str, body: Value) -> Value {
        let out = compress_visibility(TimeScale::new(scale).unwrap(), &headers(target), Bytes::from(body.to_string()));
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn a_visibility_change_is_divided_by_the_factor() {
        let out =
            compressed(600.0, CHANGE_ONE, json!({"QueueUrl": "q", "ReceiptHandle": "r", "VisibilityTimeout": 900}));
        assert_eq!(out["VisibilityTimeout"], json!(1.5));
        assert_eq!(out["ReceiptHandle"], "r");
    }

    #[test]
    fn real_time_and_other_operations_pass_unchanged() {
        let body = Bytes::from(json!({"VisibilityTimeout": 900}).to_string());
        let same = compress_visibility(TimeScale::REAL, &headers(CHANGE_ONE), body.clone());
        assert_eq!(same, body);
        for other in ["AmazonSQS.ReceiveMessage", "AmazonSQS.ChangeMessageVisibilityBatch"] {
            let out = compress_visibility(TimeScale::new(600.0).unwrap(), &headers(other), body.clone());
            assert_eq!(out, body, "{other}");
        }
    }
}
