//! The IoT data plane's `Publish` (`POST /topics/{topic}?qos=N`), served in the
//! AWS proxy after the caller's SigV4 identity and IAM (`iot:Publish` on
//! `topic/{topic}`) have been checked like every other AWS call, and handed to
//! the broker. Answers as IoT Core does: `200 {"message":"OK","traceId":…}`;
//! `400 InvalidRequestException` for a bad topic or QoS; `413
//! RequestEntityTooLargeException` over 128 KiB.

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, Method, Response, StatusCode};
use serde_json::json;
use tracing::debug;

use super::broker::Broker;
use super::topics::valid_topic;

/// IoT Core's largest message payload.
pub const MAX_PAYLOAD: usize = 128 * 1024;

fn answer(status: StatusCode, error_type: Option<&str>, body: serde_json::Value) -> Response<Body> {
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    if let Some(kind) = error_type.and_then(|t| HeaderValue::from_str(t).ok()) {
        headers.insert("x-amzn-errortype", kind);
    }
    response
}

fn invalid(message: &str) -> Response<Body> {
    answer(StatusCode::BAD_REQUEST, Some("InvalidRequestException"), json!({ "message": message }))
}

/// Whether a request is the data plane's Publish (the only data-plane call served).
pub fn is_publish(method: &Method, path: &str) -> bool {
    method == Method::POST && path.starts_with("/topics/")
}

pub fn publish(broker: &Broker, method: &Method, path: &str, query: Option<&str>, body: Bytes) -> Response<Body> {
    if !is_publish(method, path) {
        return answer(
            StatusCode::NOT_FOUND,
            Some("ResourceNotFoundException"),
            json!({"message": "the local IoT data plane serves Publish (POST /topics/{topic}) only"}),
        );
    }
    let raw = path.trim_start_matches("/topics/");
    let topic = percent_encoding::percent_decode_str(raw).decode_utf8_lossy().into_owned();
    if !valid_topic(&topic) {
        return invalid("Topic is not valid: empty, over 256 bytes, or with a wildcard (+ or #)");
    }
    let qos = match query.into_iter().flat_map(|q| form_urlencoded::parse(q.as_bytes())).find(|(k, _)| k == "qos") {
        None => 0,
        Some((_, v)) if v == "0" => 0,
        Some((_, v)) if v == "1" => 1,
        Some(_) => return invalid("qos must be 0 or 1"),
    };
    if body.len() > MAX_PAYLOAD {
        return answer(
            StatusCode::PAYLOAD_TOO_LARGE,
            Some("RequestEntityTooLargeException"),
            json!({"message": format!("Payload exceeds 131072 bytes (local stack: {} bytes)", body.len())}),
        );
    }
    let receivers = broker.publish(&topic, body, qos);
    debug!(%topic, qos, receivers, "IoT Publish");
    answer(StatusCode::OK, None, json!({"message": "OK", "traceId": uuid::Uuid::new_v4().to_string()}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn publish_answers_as_iot_core() {
        let broker = Broker::new("arn:aws:iot:eu-west-2:123456789012");
        let ok = publish(&broker, &Method::POST, "/topics/notifications-u%2D1", Some("qos=1"), Bytes::from("{}"));
        assert_eq!(ok.status(), StatusCode::OK);
        let wildcard = publish(&broker, &Method::POST, "/topics/notifications-%23", None, Bytes::new());
        assert_eq!(wildcard.status(), StatusCode::BAD_REQUEST);
        let qos2 = publish(&broker, &Method::POST, "/topics/t", Some("qos=2"), Bytes::new());
        assert_eq!(qos2.status(), StatusCode::BAD_REQUEST);
        let big = publish(&broker, &Method::POST, "/topics/t", None, Bytes::from(vec![0u8; MAX_PAYLOAD + 1]));
        assert_eq!(big.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(big.headers()["x-amzn-errortype"], "RequestEntityTooLargeException");
    }
}
