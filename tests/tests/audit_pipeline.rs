//! Audit trail and notifications (seed 004) through the real pipeline: the workflow
//! API behind the local JWT authorizer, SNS fan-out to the two step queues, the
//! step binaries on the local Lambda service, DynamoDB, and IoT publishes to the
//! emulator (counted by the fault proxy as `iotdata.POST`: the IoT data plane is a
//! REST API signed as `iotdata`).

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use integration_tests::{eventually, Driver};
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(40);
const STEP_QUEUES: [&str; 2] = ["CreateAuditRecordQueue", "SendNotificationQueue"];
const REQUESTER: &[&str] = &["requester"];
const APPROVER: &[&str] = &["approver"];
const AUDITOR: &[&str] = &["auditor"];
/// Workflow data that must reach the audit record and never a log line.
const PRIVATE: &str = "Private-Roofing-Ltd";

/// Users of one test: unique ids, so nothing is shared by accident.
struct People {
    requester: String,
    approver: String,
    approver_2: String,
    auditor: String,
    stranger: String,
}

impl People {
    fn new(d: &Driver) -> Self {
        Self {
            requester: d.unique_user(),
            approver: d.unique_user(),
            approver_2: d.unique_user(),
            auditor: d.unique_user(),
            stranger: d.unique_user(),
        }
    }
}

async fn create(d: &Driver, who: &str, scheme: &str, approvers: &[&str]) -> String {
    let body =
        json!({"scheme": scheme, "title": "Roof repair", "approvers": approvers, "data": {"contractor": PRIVATE}});
    let (status, body) = d.call_as("POST", "/workflows", who, REQUESTER, Some(&body)).await;
    assert_eq!(status, 201, "{body}");
    body["workflow"]["workflow_id"].as_str().expect("an id").to_owned()
}

async fn act(d: &Driver, who: &str, roles: &[&str], id: &str, action: &str) -> (u16, Value) {
    let body = json!({"action": action, "comment": format!("{action} by {who}")});
    d.call_as("POST", &format!("/workflows/{id}/actions"), who, roles, Some(&body)).await
}

/// Every page of an audit search (`limit=2`), with the page count.
async fn search_all(d: &Driver, auditor: &str, query: &str) -> (Vec<Value>, usize) {
    let mut items = Vec::new();
    let mut next: Option<String> = None;
    for pages in 1..=50 {
        let path = match &next {
            None => format!("/audit?{query}&limit=2"),
            Some(c) => format!("/audit?{query}&limit=2&next={c}"),
        };
        let (status, body) = d.call_as("GET", &path, auditor, AUDITOR, None).await;
        assert_eq!(status, 200, "{path}: {body}");
        let page = body["items"].as_array().expect("items").clone();
        assert!(page.len() <= 2, "a page holds at most its limit");
        items.extend(page);
        match body["next"].as_str() {
            Some(c) => next = Some(c.to_owned()),
            None => return (items, pages),
        }
    }
    panic!("{query}: pagination does not end");
}

fn keys(items: &[Value]) -> Vec<(String, u64)> {
    items
        .iter()
        .map(|i| (i["workflow_id"].as_str().unwrap_or_default().to_owned(), i["seq"].as_u64().unwrap_or(0)))
        .collect()
}

async fn records_of(d: &Driver, auditor: &str, id: &str) -> Vec<Value> {
    let (status, body) = d.call_as("GET", &format!("/audit?workflow_id={id}&limit=100"), auditor, AUDITOR, None).await;
    assert_eq!(status, 200, "{body}");
    body["items"].as_array().cloned().unwrap_or_default()
}

async fn notifications(d: &Driver, user: &str) -> (Vec<Value>, u64) {
    let (status, body) = d.call_as("GET", &format!("/users/{user}/notifications?limit=100"), user, &[], None).await;
    assert_eq!(status, 200, "{body}");
    (body["items"].as_array().cloned().unwrap_or_default(), body["unread"].as_u64().unwrap_or(u64::MAX))
}

fn iot_publishes(d: &Driver) -> u64 {
    d.stack().aws_requests().get("iotdata.POST").copied().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_accepted_action_yields_one_record_and_one_notification_per_recipient_even_redelivered() {
    let d = Driver::start().await;
    let p = People::new(&d);
    let captured = d.capture_topic("WorkflowActionsTopic").await;
    let id = create(&d, &p.requester, "grants", &[&p.approver, &p.approver_2]).await;

    // Accepted: the creating save, a save, the request, the approval. Refused on the way:
    // approving a draft (409), self-approval (403), an approver the workflow does not name
    // (404: not theirs to see), and saving once approved (409).
    assert_eq!(act(&d, &p.requester, REQUESTER, &id, "save").await.0, 200);
    let (status, body) = act(&d, &p.approver, APPROVER, &id, "approve").await;
    assert_eq!((status, body["error"].as_str()), (409, Some("invalid_transition")), "{body}");
    assert_eq!(act(&d, &p.requester, REQUESTER, &id, "request").await.0, 200);
    let (status, body) = act(&d, &p.requester, &["requester", "approver"], &id, "approve").await;
    assert_eq!(status, 403, "{body}");
    assert!(body["message"].as_str().unwrap_or_default().contains("own request"), "{body}");
    assert_eq!(act(&d, &p.stranger, APPROVER, &id, "approve").await.0, 404);
    let (status, body) = act(&d, &p.approver, APPROVER, &id, "approve").await;
    assert_eq!((status, body["workflow"]["state"].as_str()), (200, Some("APPROVED")), "{body}");
    assert_eq!(act(&d, &p.requester, REQUESTER, &id, "save").await.0, 409);

    let records = eventually("four audit records", WAIT, || async {
        let r = records_of(&d, &p.auditor, &id).await;
        (r.len() == 4).then_some(r)
    })
    .await;
    d.wait_queues_drained(&STEP_QUEUES, WAIT).await;
    let actions: Vec<&str> = records.iter().filter_map(|r| r["action"].as_str()).collect();
    assert_eq!(actions, ["save", "save", "request", "approve"]);
    assert_eq!(records[3]["actor"], p.approver.as_str());
    assert_eq!(records[3]["step_id"], "approval");
    assert_eq!(records[1]["prev_hash"], records[0]["hash"]);
    assert_eq!(records[0]["data"]["contractor"], PRIVATE);
    // One correlation id from the API request through both steps' log lines; no token, no data.
    let correlation = records[3]["correlation_id"].as_str().expect("a correlation id").to_owned();
    for f in ["workflow-api", "create-audit-record", "send-notification"] {
        let logs = d.function_logs(f);
        assert!(logs.iter().any(|l| l.contains(&correlation)), "{f} logs the correlation id");
        assert!(!logs.iter().any(|l| l.contains("eyJ") || l.contains(PRIVATE)), "{f} logged a token or data");
    }

    // Saves tell the requester; the request and the approval tell all three.
    let expected = HashMap::from([(p.requester.clone(), 4), (p.approver.clone(), 2), (p.approver_2.clone(), 2)]);
    let mut ids_of: HashMap<String, BTreeSet<String>> = HashMap::new();
    for (user, n) in &expected {
        let (items, unread) = notifications(&d, user).await;
        assert_eq!((items.len(), unread), (*n, *n as u64), "{user}: {items:?}");
        ids_of.insert(
            user.clone(),
            items.iter().filter_map(|i| i["notification_id"].as_str().map(str::to_owned)).collect(),
        );
    }
    assert_eq!(notifications(&d, &p.stranger).await.0.len(), 0);
    let published = iot_publishes(&d);
    assert_eq!(published, 8, "one IoT publish per notification");

    // Redelivery: every event as SNS delivered it, twice more to each step queue, and
    // published to the topic once more.
    let bodies: Vec<String> = d.receive_all(&captured).await.into_iter().map(|m| m.body).collect();
    assert_eq!(bodies.len(), 4, "one event per accepted action, none for refused ones");
    for queue in STEP_QUEUES {
        d.send_bodies_to(queue, &bodies).await;
        d.send_bodies_to(queue, &bodies).await;
    }
    let topic = d.stack().provisioned().topic_arn("WorkflowActionsTopic").expect("topic").to_owned();
    for body in &bodies {
        d.sns().publish().topic_arn(&topic).message(body).send().await.expect("Publish");
    }
    d.wait_queues_drained(&STEP_QUEUES, WAIT).await;
    assert_eq!(records_of(&d, &p.auditor, &id).await, records, "records unchanged");
    for (user, n) in &expected {
        assert_eq!(notifications(&d, user).await.1, *n as u64, "{user}: no notification doubled");
    }
    assert_eq!(iot_publishes(&d), published, "nothing published twice");
    for letters in ["CreateAuditRecordDlq", "SendNotificationDlq"] {
        assert!(d.messages_in(letters).await.is_empty(), "{letters} is empty");
    }

    // The chain checks out; a record edited behind the API's back breaks it.
    let verify = format!("/audit/verify?workflow_id={id}");
    let (status, check) = d.call_as("GET", &verify, &p.auditor, AUDITOR, None).await;
    assert_eq!((status, check["valid"].as_bool(), check["records"].as_u64()), (200, Some(true), Some(4)), "{check}");
    d.dynamodb()
        .update_item()
        .table_name(d.table("AuditTable"))
        .key("workflow_id", AttributeValue::S(id.clone()))
        .key("seq", AttributeValue::N("2".into()))
        .update_expression("SET #c = :c")
        .expression_attribute_names("#c", "comment")
        .expression_attribute_values(":c", AttributeValue::S("changed afterwards".into()))
        .send()
        .await
        .expect("tamper");
    let (_, check) = d.call_as("GET", &verify, &p.auditor, AUDITOR, None).await;
    assert_eq!((check["valid"].as_bool(), check["broken_at"].as_u64()), (Some(false), Some(2)), "{check}");
    assert_eq!(d.call_as("GET", &verify, &p.requester, REQUESTER, None).await.0, 403, "auditors only");

    // Nobody reads another's notifications: not the list, not through their own path.
    let mine = format!("/users/{}/notifications", p.requester);
    assert_eq!(d.call_as("GET", &mine, &p.approver, APPROVER, None).await.0, 403);
    assert_eq!(d.call_as("GET", &mine, &p.auditor, AUDITOR, None).await.0, 403, "not even an auditor");
    let theirs = ids_of[&p.requester].iter().next().expect("a notification").clone();
    let read_path = |user: &str| format!("/users/{user}/notifications/{theirs}/read");
    assert_eq!(d.call_as("POST", &read_path(&p.requester), &p.approver, APPROVER, None).await.0, 403);
    assert_eq!(d.call_as("POST", &read_path(&p.approver), &p.approver, APPROVER, None).await.0, 404);
    assert!(ids_of[&p.approver].is_disjoint(&ids_of[&p.requester]));
    let (status, read) = d.call_as("POST", &read_path(&p.requester), &p.requester, &[], None).await;
    assert_eq!((status, read["read"].as_bool()), (200, Some(true)), "{read}");
    assert_eq!(notifications(&d, &p.requester).await.1, 3, "one fewer unread");
    assert_eq!(notifications(&d, &p.approver).await.1, 2, "someone else's read changes nothing of mine");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_search_by_workflow_actor_and_scheme_returns_the_right_records_across_pages() {
    let d = Driver::start().await;
    let p = People::new(&d);
    let other_requester = d.unique_user();
    let (grants, loans) = ("grants-2024", "loans-2024");
    let approvers = [p.approver.as_str(), p.approver_2.as_str()];

    let w1 = create(&d, &p.requester, grants, &approvers).await;
    assert_eq!(act(&d, &p.requester, REQUESTER, &w1, "request").await.0, 200);
    assert_eq!(act(&d, &p.approver, APPROVER, &w1, "approve").await.0, 200);
    let w2 = create(&d, &other_requester, grants, &approvers).await;
    assert_eq!(act(&d, &other_requester, REQUESTER, &w2, "save").await.0, 200);
    assert_eq!(act(&d, &other_requester, REQUESTER, &w2, "request").await.0, 200);
    assert_eq!(act(&d, &p.approver, APPROVER, &w2, "reject").await.0, 200);
    let w3 = create(&d, &p.requester, loans, &approvers).await;
    assert_eq!(act(&d, &p.requester, REQUESTER, &w3, "request").await.0, 200);
    // Two approvers decide at once: one wins, the other is told the state moved on.
    let (a, b) =
        tokio::join!(act(&d, &p.approver, APPROVER, &w3, "approve"), act(&d, &p.approver_2, APPROVER, &w3, "reject"));
    let mut statuses = [a.0, b.0];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409], "{a:?} {b:?}");
    let winner = if a.0 == 200 { (p.approver.clone(), "approve") } else { (p.approver_2.clone(), "reject") };

    // 3 + 4 + 3 records.
    eventually("ten audit records", WAIT, || async {
        let n = records_of(&d, &p.auditor, &w1).await.len()
            + records_of(&d, &p.auditor, &w2).await.len()
            + records_of(&d, &p.auditor, &w3).await.len();
        (n == 10).then_some(())
    })
    .await;

    let (by_w2, pages) = search_all(&d, &p.auditor, &format!("workflow_id={w2}")).await;
    assert_eq!(keys(&by_w2), (1..=4).map(|s| (w2.clone(), s)).collect::<Vec<_>>(), "chain order");
    assert!(pages >= 2);

    let (by_requester, _) = search_all(&d, &p.auditor, &format!("actor={}", p.requester)).await;
    let expected: Vec<(String, u64)> = vec![(w1.clone(), 1), (w1.clone(), 2), (w3.clone(), 1), (w3.clone(), 2)];
    assert_eq!(keys(&by_requester), expected, "oldest first");
    let (by_approver, _) = search_all(&d, &p.auditor, &format!("actor={}", p.approver)).await;
    let mut expected = vec![(w1.clone(), 3), (w2.clone(), 4)];
    if winner.0 == p.approver {
        expected.push((w3.clone(), 3));
    }
    assert_eq!(keys(&by_approver), expected);
    assert!(by_approver.iter().all(|r| r["actor"] == p.approver.as_str()));

    let (in_grants, pages) = search_all(&d, &p.auditor, &format!("scheme={grants}")).await;
    assert_eq!(in_grants.len(), 7);
    assert!(pages >= 4);
    let unique: BTreeSet<(String, u64)> = keys(&in_grants).into_iter().collect();
    assert_eq!(unique.len(), 7, "no record on two pages");
    let times: Vec<&str> = in_grants.iter().filter_map(|r| r["at"].as_str()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "oldest first: {times:?}");
    let (in_loans, _) = search_all(&d, &p.auditor, &format!("scheme={loans}")).await;
    assert_eq!(keys(&in_loans), vec![(w3.clone(), 1), (w3.clone(), 2), (w3.clone(), 3)]);
    assert_eq!(in_loans[2]["action"], winner.1);

    // A window: from w1's approval to w2's save, both ends included.
    let (from, to) = (in_grants[2]["at"].as_str().unwrap_or_default(), in_grants[4]["at"].as_str().unwrap_or_default());
    let (window, _) = search_all(&d, &p.auditor, &format!("scheme={grants}&from={from}&to={to}")).await;
    assert_eq!(keys(&window), vec![(w1.clone(), 3), (w2.clone(), 1), (w2.clone(), 2)]);

    // Auditors only, one criterion at a time.
    let (status, _) = d.call_as("GET", &format!("/audit?workflow_id={w1}"), &p.requester, REQUESTER, None).await;
    assert_eq!(status, 403);
    let (status, _) = d.call_as("GET", &format!("/audit?workflow_id={w1}&actor=x"), &p.auditor, AUDITOR, None).await;
    assert_eq!(status, 400);
}
