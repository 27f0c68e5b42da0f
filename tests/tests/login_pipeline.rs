//! Login events through the real pipeline: queue → local Lambda service running the
//! real record-login binary → DynamoDB (emulator) → query API over HTTP.

use std::collections::HashMap;
use std::time::Duration;

use integration_tests::{eventually, Driver};
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(60);

fn login(user: &str, service: &str, name: &str, ts: &str) -> Value {
    json!({"user_id": user, "service_id": service, "service_name": name, "timestamp": ts})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_order_and_duplicated_events_keep_the_newest_per_service_and_log_each_once() {
    let d = Driver::start().await;
    let user = d.unique_user();
    let a1 = login(&user, "svc-a", "A (1st name)", "2024-03-01T10:00:00Z");
    let a2 = login(&user, "svc-a", "A (2nd name)", "2024-03-02T10:00:00Z");
    let a3 = login(&user, "svc-a", "A (3rd name)", "2024-03-03T10:00:00+00:00");
    let b1 = login(&user, "svc-b", "B", "2024-02-01T09:30:00.250Z");
    let mut with_id = login(&user, "svc-b", "B", "2024-01-15T08:00:00Z");
    with_id["event_id"] = json!("idp-event-77");
    // Newest first, then older ones, each delivered more than once.
    d.send_logins(&[a3.clone(), a1.clone(), b1.clone(), with_id.clone(), a2.clone()]).await;
    d.send_logins(&[a1.clone(), with_id.clone(), a3.clone(), a2.clone(), with_id.clone()]).await;

    eventually("five distinct logins counted", WAIT, || async {
        let body = d.get_json(&format!("/users/{user}/services"), &user).await.1;
        let total: u64 = body["services"].as_array()?.iter().filter_map(|s| s["login_count"].as_u64()).sum();
        (total >= 5).then_some(())
    })
    .await;
    // Every copy has been handled: now the counts must not have moved past 5.
    d.wait_drained().await;
    let (_, services) = d.get_json(&format!("/users/{user}/services"), &user).await;

    let list = services["services"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["service_id"], "svc-a", "newest first");
    assert_eq!(list[0]["last_accessed"], "2024-03-03T10:00:00Z");
    assert_eq!(list[0]["service_name"], "A (3rd name)", "the newest event's name wins");
    assert_eq!(list[0]["login_count"], 3);
    assert_eq!(list[1]["last_accessed"], "2024-02-01T09:30:00.250Z");
    assert_eq!(list[1]["login_count"], 2);

    let (_, activity) = d.get_json(&format!("/users/{user}/activity?limit=100"), &user).await;
    let items = activity["items"].as_array().unwrap();
    assert_eq!(items.len(), 5, "each event logged once: {activity}");
    let times: Vec<&str> = items.iter().map(|i| i["timestamp"].as_str().unwrap()).collect();
    let mut sorted = times.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(times, sorted, "activity is newest first");
    assert!(items.iter().any(|i| i["event_id"] == "idp-event-77"));
    assert_eq!(d.dlq_messages().await.len(), 0);

    // Logs carry ids and outcomes, never the event's content.
    let logs = d.function_logs("record-login");
    assert!(!logs.is_empty());
    assert!(!logs.iter().any(|l| l.contains("A (3rd name)") || l.contains("service_name")), "event content was logged");
    let recorded: Vec<&String> = logs.iter().filter(|l| l.contains("login recorded")).collect();
    assert_eq!(recorded.len(), 10, "one line per delivered copy");
    assert!(recorded.iter().all(|l| l.contains("\"correlation_id\"")), "the step's own lines carry the correlation id");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poison_message_is_dead_lettered_after_one_receive_with_its_reason_while_its_siblings_succeed() {
    let d = Driver::start().await;
    let user = d.unique_user();
    let good: Vec<Value> = (0..3).map(|i| login(&user, &format!("svc-{i}"), "S", "2024-05-01T00:00:00Z")).collect();
    let mut bodies: Vec<String> = good.iter().map(Value::to_string).collect();
    bodies.insert(1, login(&user, "svc-x", "S", "not a time").to_string());
    bodies.push("{this is not json".to_owned());
    d.send_bodies(&bodies).await;

    let letters = eventually("two dead letters", WAIT, || async {
        let m = d.dlq_messages().await;
        (m.len() >= 2).then_some(m)
    })
    .await;
    assert_eq!(letters.len(), 2);
    let by_kind: HashMap<String, &HashMap<String, String>> =
        letters.iter().map(|m| (m.attributes["error_kind"].clone(), &m.attributes)).collect();
    let invalid = by_kind.get("invalid_login_event").expect("the bad timestamp is dead-lettered");
    assert!(invalid["error_reason"].contains("timestamp"), "{invalid:?}");
    assert_eq!(invalid["step"], "record-login");
    assert_eq!(invalid["receive_count"], "1", "permanent errors do not burn retries");
    assert_eq!(invalid["error_class"], "permanent");
    assert!(invalid.contains_key("first_seen"));
    let not_json = by_kind.get("not_json").expect("the non-JSON body is dead-lettered");
    assert_eq!(not_json["receive_count"], "1");
    assert!(letters.iter().any(|m| m.body == "{this is not json"), "the original body is kept for redrive");
    let emf = d
        .function_logs("record-login")
        .into_iter()
        .find(|l| l.contains("\"_aws\"") && l.contains("RecordsDeadLettered"));
    let emf: Value = serde_json::from_str(emf.as_deref().expect("an EMF document counts the dead letters")).unwrap();
    assert_eq!(emf["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0][0], "function");

    let services = eventually("the three good siblings recorded", WAIT, || async {
        let body = d.get_json(&format!("/users/{user}/services"), &user).await.1;
        (body["services"].as_array()?.len() == 3).then_some(body)
    })
    .await;
    assert_eq!(services["services"].as_array().unwrap().len(), 3);
    d.wait_drained().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retryable_failure_comes_back_after_a_backoff_and_succeeds() {
    let d = Driver::start().await;
    let user = d.unique_user();
    // DynamoDB fails the next two transactions (the SDK makes one attempt per call here).
    d.inject_fault("TransactWriteItems", 2, 500, "InternalServerError").await;
    d.send_logins(&[login(&user, "svc", "S", "2024-05-01T00:00:00Z")]).await;

    let services = eventually("the login recorded after retries", WAIT, || async {
        let body = d.get_json(&format!("/users/{user}/services"), &user).await.1;
        (body["services"].as_array()?.len() == 1).then_some(body)
    })
    .await;
    assert_eq!(services["services"][0]["login_count"], 1);
    assert_eq!(d.remaining_faults().await, 0, "both injected failures were hit");
    let logs = d.function_logs("record-login");
    let retries = logs.iter().filter(|l| l.contains("will retry")).count();
    assert_eq!(retries, 2, "two failed receives before success:\n{}", logs.join("\n"));
    assert!(logs.iter().any(|l| l.contains("will retry") && l.contains("\"retry_in_secs\"")));
    assert_eq!(d.dlq_messages().await.len(), 0, "a retryable failure that recovers is not dead-lettered");
    d.wait_drained().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_duplicate_delivery_of_one_event_has_one_effect() {
    let d = Driver::start().await;
    let user = d.unique_user();
    let event = login(&user, "svc", "S", "2024-05-01T00:00:00Z");
    // Ten copies in one send: they arrive in the same batches and run concurrently.
    d.send_logins(&vec![event; 10]).await;
    d.wait_drained().await;
    let (_, services) = d.get_json(&format!("/users/{user}/services"), &user).await;
    assert_eq!(services["services"][0]["login_count"], 1, "{services}");
    let (_, activity) = d.get_json(&format!("/users/{user}/activity"), &user).await;
    assert_eq!(activity["items"].as_array().unwrap().len(), 1, "{activity}");
    let logs = d.function_logs("record-login");
    assert!(logs.iter().any(|l| l.contains("Duplicate")), "duplicates are reported as such");
    assert!(!logs.iter().any(|l| l.contains("will retry")), "copies are duplicates, not failures");
    assert!(d.dlq_messages().await.is_empty(), "no copy was dead-lettered");
    assert!(
        logs.iter().any(|l| l.contains("\"_aws\"") && l.contains("DuplicatesSkipped")),
        "an EMF metric counts duplicates"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_id_reused_for_another_login_is_dead_lettered_and_changes_nothing() {
    let d = Driver::start().await;
    let user = d.unique_user();
    let mut first = login(&user, "svc", "S", "2024-05-01T00:00:00Z");
    first["event_id"] = json!("idp-1");
    d.send_logins(&[first]).await;
    d.wait_drained().await;
    let mut reused = login(&user, "svc", "S renamed", "2024-06-01T00:00:00Z");
    reused["event_id"] = json!("idp-1");
    d.send_logins(&[reused]).await;

    let letters = eventually("the reused id dead-lettered", WAIT, || async {
        let m = d.dlq_messages().await;
        (!m.is_empty()).then_some(m)
    })
    .await;
    assert_eq!(letters[0].attributes["error_kind"], "event_id_reused");
    let (_, services) = d.get_json(&format!("/users/{user}/services"), &user).await;
    assert_eq!(services["services"][0]["last_accessed"], "2024-05-01T00:00:00Z", "{services}");
    assert_eq!(services["services"][0]["service_name"], "S");
    assert_eq!(services["services"][0]["login_count"], 1);
}
