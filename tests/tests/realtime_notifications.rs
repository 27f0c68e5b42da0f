//! Real-time notifications (seed 004, issue 17) end to end on the local stack:
//! the workflow API → SNS → send-notification → the IoT data plane's Publish
//! (through the AWS proxy, IAM-checked) → the local IoT Core → a browser-like
//! MQTT-over-WebSocket subscriber, whose connection the template's
//! iot-authorizer function authorised through the local Lambda service.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use integration_tests::realtime::HANDSHAKE;
use integration_tests::Driver;
use local_stack::iot::client::{ClientError, Received, Subscriber};
use local_stack::{mint_token, TokenRequest};
use rumqttc::mqttbytes::v4::ConnectReturnCode;
use serde_json::{json, Value};

const REQUESTER: &[&str] = &["requester"];
const APPROVER: &[&str] = &["approver"];
/// The bound: a notification within a second of its action.
const WITHIN: Duration = Duration::from_secs(1);
const WAIT: Duration = Duration::from_secs(40);

fn iot_publishes(d: &Driver) -> u64 {
    d.stack().aws_requests().get("iotdata.POST").copied().unwrap_or(0)
}

/// The next message within the bound, as JSON, and how long after `accepted` it came.
async fn next_within(s: &mut Subscriber, accepted: Instant, what: &str) -> (Value, Duration) {
    let Received { payload, at, topic } =
        s.next_message(WITHIN).await.unwrap_or_else(|| panic!("{what}: nothing within 1 s"));
    let latency = at.into_std().saturating_duration_since(accepted);
    assert!(latency <= WITHIN, "{what}: {latency:?} after the action");
    let message: Value = serde_json::from_slice(&payload).expect("a JSON notification");
    assert!(topic.starts_with("notifications-"), "{topic}");
    (message, latency)
}

/// An action as `who`; the instant its 2xx answer arrived.
async fn act(d: &Driver, who: &str, roles: &[&str], path: &str, body: Value) -> (Value, Instant) {
    let (status, answer) = d.call_as("POST", path, who, roles, Some(&body)).await;
    assert!(status == 200 || status == 201, "{path}: {status} {answer}");
    (answer, Instant::now())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscribed_requester_gets_each_notification_within_a_second_in_order_once() {
    let d = Driver::start().await;
    let (requester, approver) = (d.unique_user(), d.unique_user());
    let mut mine = d.notifications_subscriber(&requester, REQUESTER).await;
    let mut theirs = d.notifications_subscriber(&approver, APPROVER).await;
    let captured = d.capture_topic("WorkflowActionsTopic").await;

    let create = json!({"scheme": "grants", "title": "Roof", "approvers": [&approver], "data": {"n": 1}});
    let (created, at) = act(&d, &requester, REQUESTER, "/workflows", create).await;
    let id = created["workflow"]["workflow_id"].as_str().expect("an id").to_owned();
    let actions = format!("/workflows/{id}/actions");
    let mut received = vec![next_within(&mut mine, at, "the creating save").await];
    let (_, at) = act(&d, &requester, REQUESTER, &actions, json!({"action": "save", "data": {"n": 2}})).await;
    received.push(next_within(&mut mine, at, "the save").await);
    let (_, at) = act(&d, &requester, REQUESTER, &actions, json!({"action": "request"})).await;
    received.push(next_within(&mut mine, at, "the request").await);
    let (approver_first, _) = next_within(&mut theirs, at, "the approver's request").await;
    let (_, at) = act(&d, &approver, APPROVER, &actions, json!({"action": "approve"})).await;
    received.push(next_within(&mut mine, at, "the approval").await);
    let (approver_second, _) = next_within(&mut theirs, at, "the approver's approval").await;

    // In order, each once, with the seed's shape and an id to dedupe by.
    let seqs: Vec<u64> = received.iter().filter_map(|(m, _)| m["notification"]["seq"].as_u64()).collect();
    assert_eq!(seqs, [1, 2, 3, 4]);
    let kinds: Vec<&str> = received.iter().filter_map(|(m, _)| m["notification"]["action"].as_str()).collect();
    assert_eq!(kinds, ["save", "save", "request", "approve"]);
    let ids: BTreeSet<&str> = received.iter().filter_map(|(m, _)| m["notificationId"].as_str()).collect();
    assert_eq!(ids.len(), 4, "one id per notification");
    assert!(received.iter().all(|(m, _)| m["notification"]["workflow_id"] == id.as_str()));
    // The approver hears of the request and the decision only, on their own topic.
    let approver_seqs = [&approver_first, &approver_second].map(|m| m["notification"]["seq"].as_u64());
    assert_eq!(approver_seqs, [Some(3), Some(4)]);
    let latencies: Vec<Duration> = received.iter().map(|(_, l)| *l).collect();
    println!("action → notification received: {latencies:?}");

    // Redelivery: every event again, twice to the step's queue and once through the
    // topic. The step finds each notification published and publishes nothing.
    let published = iot_publishes(&d);
    assert_eq!(published, 6, "one publish per notification (4 + 2)");
    let bodies: Vec<String> = d.receive_all(&captured).await.into_iter().map(|m| m.body).collect();
    assert_eq!(bodies.len(), 4);
    d.send_bodies_to("SendNotificationQueue", &bodies).await;
    d.send_bodies_to("SendNotificationQueue", &bodies).await;
    let topic = d.stack().provisioned().topic_arn("WorkflowActionsTopic").expect("topic").to_owned();
    for body in &bodies {
        d.sns().publish().topic_arn(&topic).message(body).send().await.expect("Publish");
    }
    d.wait_queues_drained(&["SendNotificationQueue"], WAIT).await;
    assert_eq!(iot_publishes(&d), published, "nothing published twice");
    assert!(mine.next_message(Duration::from_millis(500)).await.is_none(), "nothing received twice");
    assert!(theirs.next_message(Duration::from_millis(100)).await.is_none());
    assert!(d.messages_in("SendNotificationDlq").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_valid_token_connects_and_only_to_its_own_topic() {
    let d = Driver::start().await;
    let (me, other) = (d.unique_user(), d.unique_user());
    let settings = d.stack().jwt_settings().clone();
    let wrong_audience = mint_token(
        local_stack::DEFAULT_JWT_SECRET,
        &TokenRequest {
            subject: me.clone(),
            issuer: settings.issuer.clone(),
            audience: Some("someone-else".into()),
            ttl: Duration::from_secs(600),
            claims: Default::default(),
        },
    )
    .expect("mint");
    let refused = Err(ClientError::Refused(ConnectReturnCode::NotAuthorized));
    for (what, token) in [
        ("expired", d.expired_token(&me)),
        ("forged", d.forged_token(&me)),
        ("wrong audience", wrong_audience),
        ("no token", String::new()),
    ] {
        let attempt = d.mqtt_connect(&me, "tab-1", &token).await.map(|_| ());
        assert_eq!(attempt, refused, "{what}");
    }
    // A valid token, but another user's client id (taking it would disconnect them).
    let token = d.token_with_roles(&me, REQUESTER);
    let other_id =
        local_stack::iot::client::connect(&d.iot_endpoint(), &format!("{other}/tab"), &me, &token, HANDSHAKE)
            .await
            .map(|_| ());
    assert_eq!(other_id, refused, "someone else's client id");
    // Without naming the authorizer, IoT has none to call.
    let endpoint = local_stack::iot::client::Endpoint { authorizer: "not-ours".into(), ..d.iot_endpoint() };
    let unnamed = local_stack::iot::client::connect(&endpoint, &format!("{me}/tab"), &me, &token, HANDSHAKE).await;
    assert_eq!(unnamed.map(|_| ()), refused, "an authorizer the account does not have");

    let mut s = d.mqtt_connect(&me, "tab-1", &token).await.expect("a valid token connects");
    // Another user's topic, and every wildcard that would cover it (`notifications-#` is no
    // valid filter: `#` must be a whole level, and the client refuses to send it).
    for filter in [format!("notifications-{other}"), "#".into(), "+".into(), "+/#".into()] {
        assert!(!s.subscribe(&filter, HANDSHAKE).await.expect("SUBACK"), "{filter} must be refused");
    }
    assert!(s.subscribe(&format!("notifications-{me}"), HANDSHAKE).await.expect("SUBACK"));
    // Someone else's notification never reaches me; my own does.
    let broker = d.stack().iot_broker();
    broker.publish(&format!("notifications-{other}"), "theirs".into(), 1);
    broker.publish(&format!("notifications-{me}"), "mine".into(), 1);
    let got = s.next_message(HANDSHAKE).await.expect("my own message");
    assert_eq!(&got.payload[..], b"mine");
    assert!(s.next_message(Duration::from_millis(300)).await.is_none());
    // Clients only listen: a publish ends the connection, as IoT does without iot:Publish.
    s.publish(&format!("notifications-{me}"), b"spoof").await.expect("sent");
    assert!(s.ended(HANDSHAKE).await.is_some(), "publishing is refused by closing the connection");
}
