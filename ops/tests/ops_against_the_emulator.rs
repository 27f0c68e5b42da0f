//! `ops` against the real emulator: redrive moves exactly the matching messages
//! once, a redrive killed halfway loses nothing, and `stuck` finds a workflow whose
//! step was dropped.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use aws_sdk_sqs::types::MessageAttributeValue;
use local_stack::{LocalStack, StackOptions};
use ops::dlq::{redrive, RedriveOptions};
use ops::stack::StackMap;

async fn stack() -> LocalStack {
    let options = StackOptions::default().without_functions().without_pollers().without_schedules().quiet();
    LocalStack::start(options).await.expect("local stack (does `make venv` need running?)")
}

fn map(stack: &LocalStack) -> StackMap {
    let template = local_stack::find_workspace_root().join("infra/template.yaml");
    StackMap::load(&template, &stack.context().stack_name, &stack.context().region).unwrap()
}

fn attr(v: &str) -> MessageAttributeValue {
    MessageAttributeValue::builder().data_type("String").string_value(v).build().unwrap()
}

/// Puts dead letters with the kit's attributes on a DLQ.
async fn dead_letters(sqs: &aws_sdk_sqs::Client, url: &str, kind: &str, n: usize) -> Vec<String> {
    let mut bodies = Vec::new();
    for i in 0..n {
        let body = format!("{{\"n\":{i},\"kind\":\"{kind}\",\"id\":\"{}\"}}", uuid::Uuid::new_v4());
        sqs.send_message()
            .queue_url(url)
            .message_body(&body)
            .message_attributes("error_kind", attr(kind))
            .message_attributes("error_reason", attr(&format!("{kind} happened")))
            .message_attributes("receive_count", attr("5"))
            .message_attributes("correlation_id", attr(&format!("corr-{i}")))
            .send()
            .await
            .unwrap();
        bodies.push(body);
    }
    bodies
}

/// Every body now receivable from the queue (received, then deleted).
async fn drain(sqs: &aws_sdk_sqs::Client, url: &str) -> Vec<(String, String, Option<String>)> {
    let mut out = Vec::new();
    loop {
        let got = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .message_attribute_names("All")
            .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .unwrap();
        if got.messages().is_empty() {
            return out;
        }
        for m in got.messages() {
            let count = m
                .attributes()
                .and_then(|a| a.get(&aws_sdk_sqs::types::MessageSystemAttributeName::ApproximateReceiveCount))
                .cloned()
                .unwrap_or_default();
            let kind = m
                .message_attributes()
                .and_then(|a| a.get("error_kind"))
                .and_then(|v| v.string_value())
                .map(str::to_owned);
            out.push((m.body().unwrap_or_default().to_owned(), count, kind));
            sqs.delete_message().queue_url(url).receipt_handle(m.receipt_handle().unwrap()).send().await.unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_filtered_redrive_moves_each_matching_message_once_and_leaves_the_rest() {
    let s = stack().await;
    let sqs = aws_sdk_sqs::Client::new(s.sdk_config());
    let m = map(&s);
    let dlq = m.find_queue("LoginEventsDlq").unwrap();
    let dlq_url = s.provisioned().queue_url("LoginEventsDlq").unwrap().to_owned();
    let source_url = s.provisioned().queue_url("LoginEventsQueue").unwrap().to_owned();
    let fixable = dead_letters(&sqs, &dlq_url, "dynamodb_unavailable", 13).await;
    let poison = dead_letters(&sqs, &dlq_url, "invalid_login_event", 4).await;

    let dry =
        RedriveOptions { reason: Some("dynamodb".into()), dry_run: true, hold_secs: Some(5), ..Default::default() };
    let report = redrive(&sqs, &m, dlq, &dry, |_| {}).await.unwrap();
    assert_eq!((report.moved, report.skipped), (13, 4), "dry run counts");
    assert!(drain(&sqs, &source_url).await.is_empty(), "a dry run moves nothing");

    let real = RedriveOptions { reason: Some("dynamodb".into()), hold_secs: Some(5), ..Default::default() };
    let report = redrive(&sqs, &m, dlq, &real, |_| {}).await.unwrap();
    assert_eq!((report.moved, report.skipped, report.failed), (13, 4, 0));
    assert_eq!((report.remaining, report.unseen(false)), (4, 0), "what is left is what the filter kept");

    let moved = drain(&sqs, &source_url).await;
    let moved_bodies: BTreeSet<String> = moved.iter().map(|(b, _, _)| b.clone()).collect();
    assert_eq!(moved.len(), 13, "each exactly once");
    assert_eq!(moved_bodies, fixable.iter().cloned().collect());
    assert!(moved.iter().all(|(_, count, _)| count == "1"), "a fresh receive count: {moved:?}");
    assert!(moved.iter().all(|(_, _, kind)| kind.is_none()), "the kit's verdict is stripped");
    let left: BTreeSet<String> = drain(&sqs, &dlq_url).await.into_iter().map(|(b, _, _)| b).collect();
    assert_eq!(left, poison.iter().cloned().collect(), "the rest stays in the DLQ");
}

/// Issue 15: a redrive is done when the DLQ's counts say so, not at its first empty
/// receive: it long-polls for messages in flight (received by someone else, or by an
/// interrupted redrive) and reports those it could not wait for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redrive_waits_for_messages_in_flight_and_says_how_many_remain() {
    let s = stack().await;
    let sqs = aws_sdk_sqs::Client::new(s.sdk_config());
    let m = map(&s);
    let dlq = m.find_queue("CreateZendeskTicketDlq").unwrap();
    let dlq_url = s.provisioned().queue_url("CreateZendeskTicketDlq").unwrap().to_owned();
    let source_url = s.provisioned().queue_url("CreateZendeskTicketQueue").unwrap().to_owned();
    dead_letters(&sqs, &dlq_url, "provider_unavailable", 10).await;
    // Someone else holds five of them: three for 3 s, two for two minutes.
    let mut hidden = 0;
    for (n, secs) in [(3, 3), (2, 120)] {
        let got = sqs
            .receive_message()
            .queue_url(&dlq_url)
            .max_number_of_messages(n)
            .visibility_timeout(secs)
            .send()
            .await
            .unwrap();
        hidden += got.messages().len();
    }
    assert_eq!(hidden, 5);

    let options = RedriveOptions { hold_secs: Some(30), ..Default::default() };
    let report = redrive(&sqs, &m, dlq, &options, |_| {}).await.unwrap();
    assert_eq!(report.found, 10, "counted at the start, in flight included");
    assert_eq!(report.moved, 8, "the five visible, then the three whose hold ran out: {report:?}");
    assert_eq!((report.remaining, report.unseen(false)), (2, 2), "the two still held elsewhere, said so");
    assert_eq!(drain(&sqs, &source_url).await.len(), 8);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redrive_killed_halfway_loses_nothing() {
    let s = stack().await;
    let sqs = aws_sdk_sqs::Client::new(s.sdk_config());
    let dlq_url = s.provisioned().queue_url("SendNotifyEmailDlq").unwrap().to_owned();
    let source_url = s.provisioned().queue_url("SendNotifyEmailQueue").unwrap().to_owned();
    let all = dead_letters(&sqs, &dlq_url, "provider_unavailable", 20).await;

    // The real binary, slowed down, killed with SIGKILL while it moves.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ops"))
        .args(["--stack", &s.context().stack_name, "--template"])
        .arg(local_stack::find_workspace_root().join("infra/template.yaml"))
        .args(["dlq", "redrive", "SendNotifyEmailDlq", "--rate", "10", "--hold-secs", "2"])
        .env("AWS_ENDPOINT_URL", s.endpoint())
        .env("AWS_REGION", &s.context().region)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let moved = local_stack::queues::depth(&sqs, &source_url).await.unwrap();
        if moved >= 5 {
            break;
        }
        assert!(Instant::now() < deadline, "the redrive never started moving");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child.kill().unwrap();
    let _ = child.wait();
    assert!(local_stack::queues::depth(&sqs, &source_url).await.unwrap() < 20, "killed halfway, not after");

    // Once the held messages show again, every message is in one queue or the other.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen: BTreeSet<String> = BTreeSet::new();
    while seen.len() < all.len() {
        for url in [&source_url, &dlq_url] {
            seen.extend(drain(&sqs, url).await.into_iter().map(|(b, _, _)| b));
        }
        assert!(Instant::now() < deadline, "lost {} message(s)", all.len() - seen.len());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(seen, all.into_iter().collect());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stuck_finds_a_report_whose_next_step_was_dropped() {
    use reports::ports::ReportStore;
    let s = stack().await;
    let ddb = aws_sdk_dynamodb::Client::new(s.sdk_config());
    let m = map(&s);
    let store = reports::dynamo::DynamoReportStore::new(
        ddb.clone(),
        m.table("ReportsTable").unwrap(),
        m.table("ActivityTable").unwrap(),
    );
    let activity = activity_store(&s, &m).await;
    let mut ids = Vec::new();
    for i in 0..2 {
        let user = format!("stuck-user-{i}-{}", uuid::Uuid::new_v4().simple());
        seed(&activity, &user).await;
        let req = reports::ReportRequest::parse(reports::ReportSubmission {
            report_id: uuid::Uuid::new_v4().to_string(),
            user_id: user,
            email: "someone@example.gov.uk".into(),
            event_ids: vec!["evt-1".into()],
            reported_at: chrono::Utc::now(),
        })
        .unwrap();
        // Marked, but its `report.requested` never reaches the ticket step: no function runs.
        store.mark_reported(&req, "corr-stuck", chrono::Utc::now() - chrono::Duration::minutes(30)).await.unwrap();
        ids.push(req.report_id);
    }
    // The second one finishes: it must not be listed.
    let done = ids[1];
    store.record_ticket(&req_of(&store, &done).await, 1, chrono::Utc::now()).await.unwrap();
    for effect in [reports::Effect::Txma, reports::Effect::Email] {
        store.record_effect(&done, effect, "x", chrono::Utc::now()).await.unwrap();
    }
    assert!(store.complete(&done, chrono::Utc::now()).await.unwrap());

    let sources = ops::stuck::sources(&ddb, &m);
    let found = ops::stuck::check(&sources, &[stuck::Kind::Report], &ops::stuck::limits(&m, None).unwrap()).await;
    let listed: Vec<String> = found.all().map(|f| f.id.clone()).collect();
    assert_eq!(listed, vec![ids[0].to_string()], "only the unfinished one");
    assert!(found.all().next().unwrap().waiting_for.contains("create-zendesk-ticket"));
    let an_hour = ops::stuck::limits(&m, Some(Duration::from_secs(60 * 60))).unwrap();
    let fresh = ops::stuck::check(&sources, &[stuck::Kind::Report], &an_hour).await;
    assert_eq!(fresh.count(stuck::Kind::Report), Some(0), "younger than the threshold is not stuck");
}

async fn activity_store(s: &LocalStack, m: &StackMap) -> activity::dynamo::DynamoActivityStore {
    activity::dynamo::DynamoActivityStore::new(
        aws_sdk_dynamodb::Client::new(s.sdk_config()),
        m.table("ActivityTable").unwrap(),
    )
}

async fn seed(store: &activity::dynamo::DynamoActivityStore, user: &str) {
    use activity::LoginRecorder;
    let raw = activity::RawLoginEvent {
        user_id: user.to_owned(),
        service_id: "svc".into(),
        service_name: "S".into(),
        timestamp: "2024-06-01T10:00:00Z".into(),
        event_id: Some("evt-1".into()),
        session_id: None,
    };
    store.record(&activity::LoginEvent::parse(raw, chrono::Utc::now()).unwrap()).await.unwrap();
}

async fn req_of(store: &reports::dynamo::DynamoReportStore, id: &uuid::Uuid) -> reports::ReportRequest {
    use reports::ports::ReportReader;
    let r = ReportReader::get(store, id).await.unwrap().unwrap();
    reports::ReportRequest::parse(reports::ReportSubmission {
        report_id: r.report_id,
        user_id: r.user_id,
        email: "someone@example.gov.uk".into(),
        event_ids: r.event_ids,
        reported_at: r.reported_at,
    })
    .unwrap()
}
