//! Handler tests: the sample API Gateway events from `events/contacts-api`, through
//! the real router, against the in-memory store.

use axum::body::to_bytes;
use chrono::Duration;
use contacts::flow_log::FlowRecordingSetting;
use contacts::ports::ContactStore;
use contacts::testing::MemoryContactStore;
use contacts::time::parse;
use contacts::{ContactState, InstanceId};
use tower::ServiceExt;

use super::*;

const ID: &str = "1c0ffee0-0003-4003-8003-000000000002";
/// A call whose customer opted out of recording before the agent answered.
const OPTED_OUT: &str = "1c0ffee0-0003-4003-8003-000000000004";

async fn store() -> MemoryContactStore {
    let store = MemoryContactStore::default();
    let requested = FlowRecordingSetting {
        contact_id: ContactId::parse(ID).unwrap(),
        instance_id: InstanceId::parse("5e7c0a11-0003-4003-8003-00000000c0a1").unwrap(),
        at: parse("2026-01-01T10:00:01Z"),
        participants: vec!["Agent".into(), "Customer".into()],
        analytics: true,
    };
    let checked = parse("2026-01-01T10:20:00Z").unwrap();
    let mut c = Contact::initialised(requested, checked - Duration::minutes(20));
    c.state = ContactState::CompletedAgent;
    store.put(c);
    let id = ContactId::parse(ID).unwrap();
    store.record_recording(&id, RecordingState::Missing, None, checked).await.unwrap();
    store.mark_alerted(&id, checked).await.unwrap();

    let opted_out = ContactId::parse(OPTED_OUT).unwrap();
    let on = contacts::RecordingSetting::new(parse("2026-01-01T10:00:01Z").unwrap(), vec!["Agent".into()], false);
    let off = contacts::RecordingSetting::new(parse("2026-01-01T10:00:05Z").unwrap(), vec![], false);
    let instance = InstanceId::parse("5e7c0a11-0003-4003-8003-00000000c0a1").unwrap();
    let mut c = Contact::from_settings(opted_out.clone(), instance, [off, on], checked - Duration::minutes(20));
    c.state = ContactState::CompletedAgent;
    c.agent_connected_at = parse("2026-01-01T10:01:00Z");
    c.disconnected_at = parse("2026-01-01T10:04:00Z");
    store.put(c);
    store.record_recording(&opted_out, RecordingState::NotExpected, None, checked).await.unwrap();
    store
}

async fn call(fixture: &str) -> (u16, Value) {
    let request = lambda_http::request::from_str(fixture).unwrap();
    let ops = OpsRole { claim: "roles".into(), role: "ops".into() };
    let response = router(store().await, ops).oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let body = to_bytes(response.into_body(), 1 << 20).await.unwrap();
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

#[tokio::test]
async fn an_operator_reads_a_contact() {
    let (status, body) = call(include_str!("../../../../events/contacts-api/get-contact.json")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["state"], "COMPLETED - AGENT");
    assert_eq!(body["recording_state"], "CALL_RECORDED_FAILURE");
    assert_eq!(body["timestamps"]["alert_sent_at"], "2026-01-01T10:20:00.000Z");
    assert_eq!(body["requested"]["recording_participants"], json!(["Agent", "Customer"]));
}

#[tokio::test]
async fn a_caller_without_the_ops_role_is_refused() {
    let (status, body) = call(include_str!("../../../../events/contacts-api/unauthorised-get-contact.json")).await;
    assert_eq!(status, 403, "{body}");
}

/// Issue 13: a role claim naming `Night ops` or `x,ops` is not the ops role.
#[tokio::test]
async fn a_name_that_only_contains_the_ops_role_is_refused() {
    let mut event: Value =
        serde_json::from_str(include_str!("../../../../events/contacts-api/get-contact.json")).unwrap();
    for roles in ["Night ops", "x,ops", "[Night,ops]"] {
        event["requestContext"]["authorizer"]["jwt"]["claims"]["roles"] = roles.into();
        let (status, body) = call(&event.to_string()).await;
        assert_eq!(status, 403, "{roles:?}: {body}");
    }
}

#[tokio::test]
async fn unrecorded_calls_are_listed_since_a_time() {
    let (status, body) = call(include_str!("../../../../events/contacts-api/list-unrecorded.json")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["items"].as_array().unwrap().len(), 1);
    assert_eq!(body["items"][0]["contact_id"], ID);
    assert_eq!(body["next"], Value::Null);
}

#[tokio::test]
async fn bad_queries_say_what_is_wrong() {
    let base: Value =
        serde_json::from_str(include_str!("../../../../events/contacts-api/list-unrecorded.json")).unwrap();
    for (query, expect) in [
        ("recording_state=RECORDED", "recording_state"),
        ("recording_state=CALL_RECORDED_FAILURE&from=yesterday", "from"),
        ("recording_state=CALL_RECORDED_FAILURE&limit=0", "limit"),
        ("recording_state=CALL_RECORDED_FAILURE&next=abc", "cursor"),
    ] {
        let mut event = base.clone();
        event["rawQueryString"] = json!(query);
        event["queryStringParameters"] =
            json!(query.split('&').map(|p| p.split_once('=').unwrap()).collect::<std::collections::HashMap<_, _>>());
        let (status, body) = call(&event.to_string()).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert!(body["message"].as_str().unwrap().contains(expect), "{query}: {body}");
    }
    let mut unknown =
        serde_json::from_str::<Value>(include_str!("../../../../events/contacts-api/get-contact.json")).unwrap();
    unknown["rawPath"] = json!("/contacts/00000000-0000-4000-8000-000000000000");
    unknown["requestContext"]["http"]["path"] = unknown["rawPath"].clone();
    unknown["pathParameters"]["contact_id"] = json!("00000000-0000-4000-8000-000000000000");
    assert_eq!(call(&unknown.to_string()).await.0, 404);
}

/// Issue 16: the settings that decided it, in the order they ran, and the listing.
#[tokio::test]
async fn a_call_no_recording_was_expected_of_shows_why_and_is_listed() {
    let mut event: Value =
        serde_json::from_str(include_str!("../../../../events/contacts-api/get-contact.json")).unwrap();
    event["rawPath"] = json!(format!("/contacts/{OPTED_OUT}"));
    event["requestContext"]["http"]["path"] = event["rawPath"].clone();
    event["pathParameters"]["contact_id"] = json!(OPTED_OUT);
    let (status, body) = call(&event.to_string()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["recording_state"], "RECORDING_NOT_EXPECTED");
    assert_eq!(body["recording_expected"], false);
    assert_eq!(body["not_expected_because"], "recording switched off before the agent connected");
    let settings = body["recording_settings"].as_array().unwrap();
    assert_eq!(settings.len(), 2);
    assert_eq!(settings[0]["recording_participants"], json!(["Agent"]));
    assert_eq!(settings[1]["recording_participants"], json!([]));

    let mut list: Value =
        serde_json::from_str(include_str!("../../../../events/contacts-api/list-unrecorded.json")).unwrap();
    list["rawQueryString"] = json!("recording_state=RECORDING_NOT_EXPECTED&from=2026-01-01T00:00:00Z");
    list["queryStringParameters"] =
        json!({"recording_state": "RECORDING_NOT_EXPECTED", "from": "2026-01-01T00:00:00Z"});
    let (status, body) = call(&list.to_string()).await;
    assert_eq!(status, 200, "{body}");
    let ids: Vec<&str> = body["items"].as_array().unwrap().iter().filter_map(|i| i["contact_id"].as_str()).collect();
    assert_eq!(ids, [OPTED_OUT]);
}
