//! The Connect fake driven over HTTP: DescribeContact on its real path, scripted
//! lifecycles, Connect's error dialect, throttling on request.

use reqwest::{Client, RequestBuilder};
use serde_json::{json, Value};

/// What the SDK sends: a SigV4 Authorization header (the fake reads only its scope).
const SIGNED: &str =
    "AWS4-HMAC-SHA256 Credential=test/20260101/eu-west-2/connect/aws4_request, SignedHeaders=host, Signature=abc";

fn describe(client: &Client, url: &str, instance: &str, contact: &str) -> RequestBuilder {
    client.get(format!("{url}/contacts/{instance}/{contact}")).header("authorization", SIGNED)
}

async fn script(client: &Client, url: &str, body: Value) -> reqwest::Response {
    client.post(format!("{url}/__contacts")).json(&body).send().await.expect("script")
}

#[tokio::test]
async fn describes_a_scripted_lifecycle_and_refuses_unknown_or_unsigned_contacts() {
    let fake = super::connect().await;
    let (client, url) = (kit::http::client().expect("http client"), fake.url());
    let created =
        script(&client, &url, json!({"instance_id": "inst", "contact_id": "c1", "lifecycle": "answered"})).await;
    assert_eq!(created.status(), 201);

    let first: Value = describe(&client, &url, "inst", "c1").send().await.expect("get").json().await.expect("json");
    assert!(first["Contact"]["Arn"].as_str().expect("arn").starts_with("arn:aws:connect:eu-west-2:"));
    assert!(first["Contact"]["QueueInfo"]["EnqueueTimestamp"].is_number());
    assert!(first["Contact"].get("AgentInfo").is_none());

    let advanced = client.post(format!("{url}/__contacts/c1/advance")).send().await.expect("advance");
    assert_eq!(advanced.status(), 200);
    let second: Value = describe(&client, &url, "inst", "c1").send().await.expect("get").json().await.expect("json");
    assert!(second["Contact"]["AgentInfo"]["ConnectedToAgentTimestamp"].is_number());
    assert!(second["Contact"].get("DisconnectTimestamp").is_none());

    let other_instance = describe(&client, &url, "other", "c1").send().await.expect("get");
    assert_eq!(other_instance.status(), 404);
    assert_eq!(other_instance.headers()["x-amzn-errortype"], "ResourceNotFoundException");
    let unsigned = client.get(format!("{url}/contacts/inst/c1")).send().await.expect("get");
    assert_eq!(unsigned.status(), 403);

    let listed: Value = client.get(format!("{url}/__contacts")).send().await.expect("list").json().await.expect("json");
    assert_eq!(listed["contacts"][0]["stage"], "agent");
    assert_eq!(listed["contacts"][0]["describe_calls"], 2);
}

#[tokio::test]
async fn stages_with_durations_move_on_by_themselves() {
    let fake = super::connect().await;
    let (client, url) = (kit::http::client().expect("http client"), fake.url());
    let stages = json!([{"stage": "ivr", "secs": 0}, {"stage": "ended"}]);
    script(&client, &url, json!([{"instance_id": "i", "contact_id": "c", "stages": stages}])).await;
    let body: Value = describe(&client, &url, "i", "c").send().await.expect("get").json().await.expect("json");
    assert!(body["Contact"]["DisconnectTimestamp"].is_number(), "{body}");
    assert!(body["Contact"].get("QueueInfo").is_none());
}

#[tokio::test]
async fn throttles_on_request_as_connect_does_and_counts_it() {
    let fake = super::connect().await;
    let (client, url) = (kit::http::client().expect("http client"), fake.url());
    script(&client, &url, json!({"instance_id": "i", "contact_id": "c", "lifecycle": "queue_only"})).await;
    let set = client.post(format!("{url}/__faults")).json(&json!({"error_rate": 1, "status": 429})).send().await;
    assert_eq!(set.expect("faults").status(), 200);
    let throttled = describe(&client, &url, "i", "c").send().await.expect("get");
    assert_eq!(throttled.status(), 429);
    assert_eq!(throttled.headers()["x-amzn-errortype"], "ThrottlingException");
    assert_eq!(throttled.json::<Value>().await.expect("json")["Message"], "Rate exceeded");

    let listed: Value = client.get(format!("{url}/__contacts")).send().await.expect("list").json().await.expect("json");
    assert_eq!((listed["describe_requests"].as_u64(), listed["throttled"].as_u64()), (Some(1), Some(1)));
    assert_eq!(listed["contacts"][0]["describe_calls"], 0, "a throttled call never reached the contact");
}

#[tokio::test]
async fn bad_scripts_are_refused_with_the_reason() {
    let fake = super::connect().await;
    let (client, url) = (kit::http::client().expect("http client"), fake.url());
    let both =
        script(&client, &url, json!({"instance_id": "i", "contact_id": "c", "lifecycle": "answered", "stages": []}))
            .await;
    assert_eq!(both.status(), 400);
    assert!(both.json::<Value>().await.expect("json")["error"].as_str().expect("error").contains("exactly one"));
}

/// Issue 16: DescribeContact's quota is enforced as Connect does, a burst then the
/// steady rate, over it 429 `ThrottlingException`; configurable, and off on request.
#[tokio::test]
async fn enforces_describe_contacts_quota_by_default_and_as_configured() {
    let fake = super::connect().await;
    let (client, url) = (kit::http::client().expect("http client"), fake.url());
    script(&client, &url, json!({"instance_id": "i", "contact_id": "c", "lifecycle": "queue_only"})).await;
    let quota: Value = client.get(format!("{url}/__quota")).send().await.expect("get").json().await.expect("json");
    assert_eq!(quota, json!({"describe_contact_rps": 2.0, "burst": 5.0}), "Connect's default");

    let mut statuses = Vec::new();
    for _ in 0..20 {
        let resp = describe(&client, &url, "i", "c").send().await.expect("get");
        if resp.status() == 429 {
            assert_eq!(resp.headers()["x-amzn-errortype"], "ThrottlingException");
        }
        statuses.push(resp.status().as_u16());
    }
    let ok = statuses.iter().filter(|s| **s == 200).count();
    // The burst of 5, plus what 2 a second refilled while the 20 went out.
    assert!((5..=8).contains(&ok), "{statuses:?}");
    let listed: Value = client.get(format!("{url}/__contacts")).send().await.expect("list").json().await.expect("json");
    assert_eq!(listed["quota_throttled"].as_u64(), Some(20 - ok as u64), "{listed}");
    assert_eq!(listed["throttled"], listed["quota_throttled"]);

    let set = client.post(format!("{url}/__quota")).json(&json!({"describe_contact_rps": null})).send().await;
    assert_eq!(set.expect("quota").status(), 200);
    for _ in 0..20 {
        assert_eq!(describe(&client, &url, "i", "c").send().await.expect("get").status(), 200);
    }
    let bad = client.post(format!("{url}/__quota")).json(&json!({"describe_contact_rps": -1})).send().await;
    assert_eq!(bad.expect("quota").status(), 400);
}

#[tokio::test]
async fn a_chat_contact_is_described_with_its_channel() {
    let fake = super::connect().await;
    let (client, url) = (kit::http::client().expect("http client"), fake.url());
    let created = script(
        &client,
        &url,
        json!({"instance_id": "i", "contact_id": "c", "lifecycle": "answered", "channel": "CHAT"}),
    )
    .await;
    assert_eq!(created.status(), 201);
    let body: Value = describe(&client, &url, "i", "c").send().await.expect("get").json().await.expect("json");
    assert_eq!(body["Contact"]["Channel"], "CHAT");
}
