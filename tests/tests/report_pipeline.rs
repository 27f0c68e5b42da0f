//! Report suspicious activity (seed 000) through the real pipeline: the entry queue,
//! the four step binaries on the local Lambda service, SNS fan-out, DynamoDB, the
//! Zendesk and Notify fakes, the TxMA queue, and the query API.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use activity::dynamo::DynamoActivityStore;
use activity::{LoginEvent, LoginRecorder, RawLoginEvent};
use integration_tests::{bin_dir, eventually, time_scale, Driver};
use local_stack::StackOptions;
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(240);
const STEP_QUEUES: [&str; 4] =
    ["ReportSuspiciousActivityQueue", "CreateZendeskTicketQueue", "SendTxmaEventQueue", "SendNotifyEmailQueue"];

/// The shipped retry policy, its waits compressed by the test time scale.
async fn start() -> Driver {
    let options = StackOptions::default().with_bin_dir(bin_dir()).with_time_scale(time_scale()).quiet();
    Driver::start_with(options).await
}

/// Puts logins in the user's activity log directly (the login pipeline has its own tests).
async fn seed_events(d: &Driver, user: &str, event_ids: &[String]) {
    let store = Arc::new(DynamoActivityStore::new(d.dynamodb(), d.table("ActivityTable")));
    for (i, id) in event_ids.iter().enumerate() {
        let raw = RawLoginEvent {
            user_id: user.to_owned(),
            service_id: "svc".into(),
            service_name: "A service".into(),
            timestamp: format!("2024-06-01T10:{:02}:00Z", i % 60),
            event_id: Some(id.clone()),
            session_id: None,
        };
        let event = LoginEvent::parse(raw, chrono::Utc::now()).expect("valid login");
        store.record(&event).await.expect("seeded");
    }
}

fn report(report_id: &str, user: &str, events: &[String]) -> Value {
    json!({
        "report_id": report_id,
        "user_id": user,
        "email": format!("{user}@example.gov.uk"),
        "event_ids": events,
        "reported_at": "2024-06-01T12:00:00Z",
    })
}

async fn send_reports(d: &Driver, reports: &[Value]) {
    let bodies: Vec<String> = reports.iter().map(Value::to_string).collect();
    d.send_bodies_to("ReportSuspiciousActivityQueue", &bodies).await;
}

async fn report_status(d: &Driver, user: &str, report_id: &str) -> (u16, Value) {
    d.get_json(&format!("/users/{user}/reports/{report_id}"), user).await
}

async fn wait_for_status(d: &Driver, user: &str, report_id: &str, status: &str) -> Value {
    eventually(&format!("report {report_id} {status}"), WAIT, || async {
        let (code, body) = report_status(d, user, report_id).await;
        (code == 200 && body["status"] == status).then_some(body)
    })
    .await
}

fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_delivered_three_times_with_flaky_providers_complete_with_one_of_each_effect() {
    const N: usize = 20;
    let d = start().await;
    d.provider_faults("zendesk", json!({"error_rate": 0.3, "slow_ms": 1500})).await;
    d.provider_faults("notify", json!({"error_rate": 0.3, "slow_ms": 1500})).await;

    let mut reports = Vec::new();
    for _ in 0..N {
        let user = d.unique_user();
        let events: Vec<String> = (0..3).map(|i| format!("evt-{i}-{}", uuid())).collect();
        seed_events(&d, &user, &events).await;
        reports.push((user.clone(), uuid(), events));
    }
    let messages: Vec<Value> = reports.iter().map(|(u, r, e)| report(r, u, e)).collect();
    // Each message three times, the copies spread over separate sends.
    for _ in 0..3 {
        send_reports(&d, &messages).await;
    }

    for (user, report_id, _) in &reports {
        let body = wait_for_status(&d, user, report_id, "COMPLETED").await;
        let t = &body["timestamps"];
        for field in ["requested_at", "ticket_created_at", "txma_sent_at", "email_sent_at", "completed_at"] {
            assert!(t[field].is_string(), "{field} missing: {body}");
        }
        assert!(body["ticket_id"].is_u64() && body["txma_event_id"].is_string() && body["notification_id"].is_string());
    }
    d.wait_queues_drained(&STEP_QUEUES, Duration::from_secs(120)).await;
    // Calm the fakes so the test's own reads are not failed.
    d.provider_faults("zendesk", json!({"error_rate": 0})).await;
    d.provider_faults("notify", json!({"error_rate": 0})).await;

    let tickets = d.zendesk_tickets(None).await;
    assert_eq!(tickets.len(), N, "exactly one ticket per report");
    let emails = d.notify_emails(None).await;
    assert_eq!(emails.len(), N, "exactly one email per report");
    let txma = d.messages_in("TxmaQueue").await;
    assert_eq!(txma.len(), N, "exactly one TxMA event per report");

    for (user, report_id, events) in &reports {
        let ticket = &d.zendesk_tickets(Some(report_id)).await[0];
        let email = &d.notify_emails(Some(report_id)).await[0];
        assert_eq!(email["email_address"], format!("{user}@example.gov.uk"));
        let ticket_id = ticket["id"].as_u64().unwrap();
        assert!(email["body"].as_str().unwrap().contains(&ticket_id.to_string()), "email names the ticket");
        let event: Value = txma
            .iter()
            .map(|m| serde_json::from_str::<Value>(&m.body).unwrap())
            .find(|e| e["extensions"]["report_id"] == report_id.as_str())
            .expect("a TxMA event for the report");
        assert_eq!(event["extensions"]["zendesk_ticket_number"], ticket_id.to_string());
        assert_eq!(event["user"]["user_id"], user.as_str());

        // The activity log shows each reported item with its report, status and ticket.
        let (_, activity) = d.get_json(&format!("/users/{user}/activity?limit=100"), user).await;
        let items = activity["items"].as_array().unwrap();
        assert_eq!(items.len(), events.len());
        for item in items {
            assert_eq!(item["report"]["report_id"], report_id.as_str(), "{item}");
            assert_eq!(item["report"]["status"], "COMPLETED");
            assert_eq!(item["report"]["ticket_id"], ticket_id);
        }
    }
    for dlq in ["ReportSuspiciousActivityDlq", "CreateZendeskTicketDlq", "SendTxmaEventDlq", "SendNotifyEmailDlq"] {
        assert!(d.messages_in(dlq).await.is_empty(), "{dlq} is empty");
    }
    // The faults did fire: the steps retried.
    let retried = ["create-zendesk-ticket", "send-notify-email"]
        .iter()
        .flat_map(|f| d.function_logs(f))
        .filter(|l| l.contains("will retry"))
        .count();
    assert!(retried > 0, "no retries: the providers' faults never hit");
    // Logs carry ids, never the users' email addresses.
    for f in ["mark-reported", "create-zendesk-ticket", "send-txma-event", "send-notify-email"] {
        for line in d.function_logs(f) {
            assert!(!line.contains("@example.gov.uk"), "{f} logged an email: {line}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reporting_foreign_or_already_reported_events_is_rejected_with_no_ticket_or_email() {
    let d = start().await;
    let (alice, bob) = (d.unique_user(), d.unique_user());
    let alice_events = vec![format!("a-{}", uuid()), format!("a-{}", uuid())];
    let bob_event = format!("b-{}", uuid());
    seed_events(&d, &alice, &alice_events).await;
    seed_events(&d, &bob, std::slice::from_ref(&bob_event)).await;

    // Alice reports one of her events, then the same event again in a second report.
    let first = uuid();
    send_reports(&d, &[report(&first, &alice, &alice_events[..1])]).await;
    wait_for_status(&d, &alice, &first, "COMPLETED").await;
    let again = uuid();
    // And one naming Bob's event.
    let foreign = uuid();
    send_reports(
        &d,
        &[report(&again, &alice, &alice_events[..1]), report(&foreign, &alice, &[alice_events[1].clone(), bob_event])],
    )
    .await;

    let rejected_again = wait_for_status(&d, &alice, &again, "REJECTED").await;
    assert!(rejected_again["rejection_reason"].as_str().unwrap().contains("already reported"), "{rejected_again}");
    let rejected_foreign = wait_for_status(&d, &alice, &foreign, "REJECTED").await;
    assert!(rejected_foreign["rejection_reason"].as_str().unwrap().contains("not in this user's activity log"));
    d.wait_queues_drained(&STEP_QUEUES, Duration::from_secs(60)).await;

    for id in [&again, &foreign] {
        assert!(d.zendesk_tickets(Some(id)).await.is_empty(), "no ticket for a rejected report");
        assert!(d.notify_emails(Some(id)).await.is_empty(), "no email for a rejected report");
    }
    // Nothing of the rejected reports was marked: Alice's second event is still reportable.
    let (_, activity) = d.get_json(&format!("/users/{alice}/activity"), &alice).await;
    let second =
        activity["items"].as_array().unwrap().iter().find(|i| i["event_id"] == alice_events[1].as_str()).unwrap();
    assert!(second.get("report").is_none(), "{second}");
    assert_eq!(d.zendesk_tickets(None).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_zendesk_refusal_dead_letters_the_report_with_its_reason_and_the_api_shows_it() {
    let d = start().await;
    d.provider_faults("zendesk", json!({"error_rate": 1.0, "status": 422})).await;
    let user = d.unique_user();
    let events = vec![format!("evt-{}", uuid())];
    seed_events(&d, &user, &events).await;
    let report_id = uuid();
    send_reports(&d, &[report(&report_id, &user, &events)]).await;

    let body = wait_for_status(&d, &user, &report_id, "FAILED").await;
    assert_eq!(body["failure"]["step"], "create-zendesk-ticket", "{body}");
    assert_eq!(body["failure"]["kind"], "provider_rejected");
    assert!(body["failure"]["reason"].as_str().unwrap().contains("422"));

    let letters = eventually("the record in the DLQ", Duration::from_secs(30), || async {
        let m = d.messages_in("CreateZendeskTicketDlq").await;
        (!m.is_empty()).then_some(m)
    })
    .await;
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].attributes.get("error_kind").map(String::as_str), Some("provider_rejected"));
    assert_eq!(letters[0].attributes.get("error_class").map(String::as_str), Some("permanent"));
    assert_eq!(letters[0].attributes.get("receive_count").map(String::as_str), Some("1"), "not retried");
    assert!(d.zendesk_tickets(None).await.is_empty());
    assert!(d.notify_emails(None).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_after_the_ticket_was_created_but_before_it_was_recorded_creates_no_second_ticket() {
    let d = start().await;
    let user = d.unique_user();
    let events = vec![format!("evt-{}", uuid()), format!("evt-{}", uuid())];
    seed_events(&d, &user, &events).await;
    // The ticket step's first write after Zendesk answered fails, twice over: the
    // step dies between creating the ticket and recording it, and again on its retry.
    d.inject_fault("UpdateItem", 2, 500, "InternalServerError").await;
    let report_id = uuid();
    send_reports(&d, &[report(&report_id, &user, &events)]).await;

    wait_for_status(&d, &user, &report_id, "COMPLETED").await;
    assert_eq!(d.remaining_faults().await, 0, "the faults hit");
    let tickets = d.zendesk_tickets(Some(&report_id)).await;
    assert_eq!(tickets.len(), 1, "one ticket whatever the retries: {tickets:?}");
    assert_eq!(d.zendesk_tickets(None).await.len(), 1);
    let ids: HashSet<u64> = tickets.iter().filter_map(|t| t["id"].as_u64()).collect();
    let (_, body) = report_status(&d, &user, &report_id).await;
    assert!(ids.contains(&body["ticket_id"].as_u64().unwrap()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_zendesk_429_keeps_the_report_away_for_its_retry_after_then_it_completes() {
    let d = start().await;
    let user = d.unique_user();
    let events = vec![format!("evt-{}", uuid())];
    seed_events(&d, &user, &events).await;
    // Ten minutes: far beyond the first receives' backoff (1–4 s), so a retry that
    // ignored it would come back at once.
    d.provider_faults("zendesk", json!({"error_rate": 1.0, "kinds": ["429"], "retry_after_secs": 600})).await;
    let report_id = uuid();
    send_reports(&d, &[report(&report_id, &user, &events)]).await;
    let zendesk = d.stack().zendesk_url().expect("the Zendesk fake runs");
    let subjects = std::collections::BTreeSet::from([report_id.clone()]);
    let timed = eventually("two 429s for the report", WAIT, || async {
        let answered = integration_tests::providers::answered_at(&zendesk).await;
        let check = integration_tests::chaos::outages::check_retry_after(&answered, &subjects, time_scale());
        (check.checked >= 2).then_some((check, answered))
    })
    .await;
    d.provider_faults("zendesk", json!({"error_rate": 0})).await;
    wait_for_status(&d, &user, &report_id, "COMPLETED").await;
    let (check, answered) = timed;
    let mine: Vec<_> = answered.iter().filter(|a| a.subject.as_deref() == Some(report_id.as_str())).collect();
    assert!(check.violations.is_empty(), "{:?}\n{mine:#?}", check.violations);
    let (gap, least) = check.shortest_gap_ms.expect("timed");
    assert!(gap >= least && least == 1000, "{gap} ms against {least} ms (600 s at the time scale)");
    assert_eq!(d.dlq_messages().await.len(), 0, "a rate limit is not a reason to give up");
}
