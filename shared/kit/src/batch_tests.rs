//! The batch runner against fake queues: what happens to each kind of record.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use aws_lambda_events::sqs::{SqsEvent, SqsMessage};
use serde::Deserialize;

use crate::batch::{BatchRunner, FnStep, Outcome, RecordContext, RunnerConfig, Settlement};
use crate::decode::JsonBody;
use crate::error::{Classify, ErrorClass};
use crate::queue::attr;
use crate::testing::FakeQueues;

#[derive(Debug, Deserialize)]
struct Cmd {
    action: String,
    #[serde(default)]
    group: String,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct TestError(&'static str, ErrorClass);
impl Classify for TestError {
    fn class(&self) -> ErrorClass {
        self.1
    }
    fn kind(&self) -> &'static str {
        self.0
    }
    fn retry_after(&self) -> Option<std::time::Duration> {
        (self.0 == "throttled").then_some(std::time::Duration::from_secs(600))
    }
    fn dependency(&self) -> Option<&'static str> {
        (self.0 == "throttled").then_some("zendesk")
    }
}

fn record(id: &str, body: &str, receive_count: u32, group: Option<&str>) -> SqsMessage {
    let mut attributes = HashMap::new();
    attributes.insert("ApproximateReceiveCount".to_owned(), receive_count.to_string());
    attributes.insert("ApproximateFirstReceiveTimestamp".to_owned(), "1700000000000".to_owned());
    if let Some(g) = group {
        attributes.insert("MessageGroupId".to_owned(), g.to_owned());
    }
    let mut m = SqsMessage::default();
    m.message_id = Some(id.to_owned());
    m.receipt_handle = Some(format!("rh-{id}"));
    m.body = Some(body.to_owned());
    m.attributes = attributes;
    m.event_source_arn = Some("arn:aws:sqs:eu-west-2:123456789012:login-events".to_owned());
    m
}

fn sqs_event(records: Vec<SqsMessage>) -> SqsEvent {
    let mut e = SqsEvent::default();
    e.records = records;
    e
}

async fn action(_ctx: RecordContext, cmd: Cmd) -> Result<Outcome, TestError> {
    match cmd.action.as_str() {
        "ok" => Ok(Outcome::Done),
        "dup" => Ok(Outcome::Duplicate),
        "retry" => Err(TestError("dependency_down", ErrorClass::Retryable)),
        "throttled" => Err(TestError("throttled", ErrorClass::Retryable)),
        "invalid" => Err(TestError("invalid_thing", ErrorClass::Permanent)),
        "panic" => panic!("boom"),
        other => panic!("unknown test action {other}"),
    }
}

fn runner(queues: Arc<FakeQueues>, fifo: bool) -> BatchRunner<Arc<FakeQueues>> {
    let mut config = RunnerConfig::new("test-step");
    config.fifo = fifo;
    config.max_receive_count = 5;
    BatchRunner::new(config, queues)
}

fn failures(resp: &aws_lambda_events::sqs::SqsBatchResponse) -> Vec<String> {
    resp.batch_item_failures.iter().map(|f| f.item_identifier.clone()).collect()
}

#[tokio::test]
async fn each_record_is_settled_by_its_own_outcome() {
    let queues = Arc::new(FakeQueues::default());
    let event = sqs_event(vec![
        record("a", r#"{"action":"ok"}"#, 1, None),
        record("b", "not json at all", 1, None),
        record("c", r#"{"action":"retry"}"#, 1, None),
        record("d", r#"{"action":"invalid"}"#, 1, None),
        record("e", r#"{"action":"panic"}"#, 1, None),
        record("f", r#"{"action":"dup"}"#, 1, None),
    ]);
    let resp = runner(queues.clone(), false)
        .run(event, None, Arc::new(JsonBody::<Cmd>::default()), Arc::new(FnStep(action)))
        .await;

    let mut failed = failures(&resp);
    failed.sort();
    assert_eq!(failed, vec!["c", "e"], "only retryable failures and panics come back");

    let letters = queues.dead_letters();
    let mut kinds: Vec<_> = letters.iter().map(|l| (l.message_id.clone(), l.kind.clone())).collect();
    kinds.sort();
    assert_eq!(kinds, vec![("b".into(), "not_json".into()), ("d".into(), "invalid_thing".into())]);
    let b = letters.iter().find(|l| l.message_id == "b").unwrap();
    assert_eq!(b.body, "not json at all", "the DLQ keeps the original body for redrive");
    assert_eq!(b.step, "test-step");
    assert!(b.first_seen.is_some());

    let vis: Vec<_> = queues.visibility_changes().into_iter().map(|(rh, _)| rh).collect();
    assert!(vis.contains(&"rh-c".to_owned()) && vis.contains(&"rh-e".to_owned()));
}

#[tokio::test]
async fn retry_backoff_grows_with_the_receive_count() {
    let queues = Arc::new(FakeQueues::default());
    let event =
        sqs_event(vec![record("r1", r#"{"action":"retry"}"#, 1, None), record("r4", r#"{"action":"retry"}"#, 4, None)]);
    runner(queues.clone(), false)
        .run(event, None, Arc::new(JsonBody::<Cmd>::default()), Arc::new(FnStep(action)))
        .await;
    let vis: HashMap<_, _> = queues.visibility_changes().into_iter().collect();
    // Default backoff: base 2 s → attempt 1 in [1, 2] s, attempt 4 in [8, 16] s.
    assert!((1..=2).contains(&vis["rh-r1"]), "{vis:?}");
    assert!((8..=16).contains(&vis["rh-r4"]), "{vis:?}");
}

#[tokio::test]
async fn a_retryable_failure_on_the_last_receive_is_dead_lettered_with_its_reason() {
    let queues = Arc::new(FakeQueues::default());
    let event = sqs_event(vec![record("z", r#"{"action":"retry"}"#, 5, None)]);
    let resp = runner(queues.clone(), false)
        .run(event, None, Arc::new(JsonBody::<Cmd>::default()), Arc::new(FnStep(action)))
        .await;
    assert!(failures(&resp).is_empty());
    let letters = queues.dead_letters();
    assert_eq!(letters.len(), 1);
    assert!(letters[0].reason.starts_with("gave up after 5 receives"), "{}", letters[0].reason);
    let attrs: HashMap<_, _> = letters[0].attributes().into_iter().collect();
    assert_eq!(attrs[attr::CLASS], "retryable");
}

#[tokio::test]
async fn a_record_is_never_acknowledged_when_dead_lettering_fails() {
    let queues = Arc::new(FakeQueues::default());
    queues.fail_dead_letter.store(true, Ordering::SeqCst);
    let event = sqs_event(vec![record("p", "{bad", 1, None)]);
    let resp = runner(queues.clone(), false)
        .run(event, None, Arc::new(JsonBody::<Cmd>::default()), Arc::new(FnStep(action)))
        .await;
    assert_eq!(failures(&resp), vec!["p"]);
}

#[tokio::test]
async fn fifo_failure_fails_the_rest_of_its_group_only() {
    let queues = Arc::new(FakeQueues::default());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    let step = FnStep(move |ctx: RecordContext, cmd: Cmd| {
        let seen = seen2.clone();
        async move {
            seen.lock().unwrap().push((cmd.group.clone(), ctx.message_id.clone()));
            action(ctx, cmd).await
        }
    });
    let event = sqs_event(vec![
        record("a1", r#"{"action":"ok","group":"a"}"#, 1, Some("a")),
        record("b1", r#"{"action":"ok","group":"b"}"#, 1, Some("b")),
        record("a2", r#"{"action":"retry","group":"a"}"#, 1, Some("a")),
        record("b2", r#"{"action":"ok","group":"b"}"#, 1, Some("b")),
        record("a3", r#"{"action":"ok","group":"a"}"#, 1, Some("a")),
        record("b3", r#"{"action":"invalid","group":"b"}"#, 1, Some("b")),
        record("b4", r#"{"action":"ok","group":"b"}"#, 1, Some("b")),
    ]);
    let resp = runner(queues.clone(), true)
        .settle_all(event.records.clone(), None, Arc::new(JsonBody::<Cmd>::default()), Arc::new(step))
        .await;
    let by_id: HashMap<_, _> = resp.into_iter().collect();
    assert_eq!(by_id["a1"], Settlement::Acknowledged(Outcome::Done));
    assert!(matches!(by_id["a2"], Settlement::Retry { .. }));
    assert_eq!(by_id["a3"], Settlement::SkippedAfterGroupFailure, "a3 must wait for a2");
    assert!(matches!(by_id["b3"], Settlement::DeadLettered { .. }), "a dead letter is settled, not a failure");
    assert_eq!(by_id["b4"], Settlement::Acknowledged(Outcome::Done), "group b goes on");

    let order: Vec<_> = seen.lock().unwrap().iter().filter(|(g, _)| g == "b").map(|(_, id)| id.clone()).collect();
    assert_eq!(order, vec!["b1", "b2", "b3", "b4"], "a group runs in order");
    assert!(!seen.lock().unwrap().iter().any(|(_, id)| id == "a3"));
}

#[tokio::test]
async fn records_run_concurrently_up_to_the_bound() {
    let queues = Arc::new(FakeQueues::default());
    let running = Arc::new(AtomicU32::new(0));
    let peak = Arc::new(AtomicU32::new(0));
    let (r, p) = (running.clone(), peak.clone());
    let step = FnStep(move |_ctx: RecordContext, _cmd: Cmd| {
        let (r, p) = (r.clone(), p.clone());
        async move {
            let now = r.fetch_add(1, Ordering::SeqCst) + 1;
            p.fetch_max(now, Ordering::SeqCst);
            tokio::task::yield_now().await;
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            r.fetch_sub(1, Ordering::SeqCst);
            Ok::<_, TestError>(Outcome::Done)
        }
    });
    let mut config = RunnerConfig::new("s");
    config.concurrency = 3;
    let records = (0..10).map(|i| record(&i.to_string(), r#"{"action":"ok"}"#, 1, None)).collect();
    let resp = BatchRunner::new(config, queues)
        .run(sqs_event(records), None, Arc::new(JsonBody::<Cmd>::default()), Arc::new(step))
        .await;
    assert!(resp.batch_item_failures.is_empty());
    assert_eq!(peak.load(Ordering::SeqCst), 3);
}

fn fifo_record(id: &str, body: &str, group: &str) -> SqsMessage {
    let mut r = record(id, body, 1, Some(group));
    r.event_source_arn = Some("arn:aws:sqs:eu-west-2:123456789012:decisions.fifo".to_owned());
    r
}

#[tokio::test]
async fn a_fifo_source_is_ordered_even_when_the_config_forgot_to_say_so() {
    let queues = Arc::new(FakeQueues::default());
    let records = vec![fifo_record("g1", r#"{"action":"retry"}"#, "g"), fifo_record("g2", r#"{"action":"ok"}"#, "g")];
    let settled = runner(queues, false)
        .settle_all(records, None, Arc::new(JsonBody::<Cmd>::default()), Arc::new(FnStep(action)))
        .await;
    let by_id: HashMap<_, _> = settled.into_iter().collect();
    assert_eq!(by_id["g2"], Settlement::SkippedAfterGroupFailure);
}

#[tokio::test]
async fn records_are_not_started_when_the_deadline_is_too_close() {
    let queues = Arc::new(FakeQueues::default());
    let calls = Arc::new(AtomicU32::new(0));
    let c = calls.clone();
    let step = FnStep(move |ctx: RecordContext, cmd: Cmd| {
        c.fetch_add(1, Ordering::SeqCst);
        action(ctx, cmd)
    });
    let deadline = chrono::Utc::now() + chrono::Duration::milliseconds(500); // less than the 1.5 s margin
    let records = vec![record("a", r#"{"action":"ok"}"#, 1, None), record("b", r#"{"action":"ok"}"#, 1, None)];
    let resp = runner(queues, false)
        .run(sqs_event(records), Some(deadline), Arc::new(JsonBody::<Cmd>::default()), Arc::new(step))
        .await;
    let mut failed = failures(&resp);
    failed.sort();
    assert_eq!(failed, vec!["a", "b"], "unstarted records must come back");
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_step_that_overruns_its_budget_is_stopped_and_retried() {
    let queues = Arc::new(FakeQueues::default());
    let step = FnStep(|_ctx: RecordContext, _cmd: Cmd| async {
        tokio::time::sleep(std::time::Duration::from_secs(30)).await;
        Ok::<_, TestError>(Outcome::Done)
    });
    let deadline = chrono::Utc::now() + chrono::Duration::milliseconds(1800); // budget ≈ 300 ms
    let started = std::time::Instant::now();
    let settled = runner(queues.clone(), false)
        .settle_all(
            vec![record("slow", r#"{"action":"ok"}"#, 1, None)],
            Some(deadline),
            Arc::new(JsonBody::<Cmd>::default()),
            Arc::new(step),
        )
        .await;
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "the runner must not wait for the step");
    assert_eq!(settled[0].1, Settlement::Retry { kind: "deadline".to_owned() });
    assert_eq!(queues.visibility_changes().len(), 1, "it is retried with a backoff");
}

/// Records which of its records were dead-lettered, as a workflow step would.
#[derive(Default)]
struct Noting(Mutex<Vec<(String, String)>>);

#[async_trait::async_trait]
impl crate::batch::Step<Cmd> for Noting {
    type Error = TestError;
    async fn handle(&self, ctx: &RecordContext, cmd: Cmd) -> Result<Outcome, TestError> {
        action(ctx.clone(), cmd).await
    }
    async fn dead_lettered(
        &self,
        ctx: &RecordContext,
        notice: &crate::batch::DeadLetterNotice,
    ) -> Result<(), TestError> {
        self.0.lock().unwrap().push((ctx.message_id.clone(), notice.kind.clone()));
        Ok(())
    }
}

#[tokio::test]
async fn a_step_hears_of_its_dead_letters_only_after_they_are_safe_in_the_dlq() {
    let queues = Arc::new(FakeQueues::default());
    let step = Arc::new(Noting::default());
    let records = vec![
        record("ok", r#"{"action":"ok"}"#, 1, None),
        record("bad", r#"{"action":"invalid"}"#, 1, None),
        record("flaky", r#"{"action":"retry"}"#, 1, None),
        record("last", r#"{"action":"retry"}"#, 5, None),
    ];
    runner(queues.clone(), false)
        .run(sqs_event(records), None, Arc::new(JsonBody::<Cmd>::default()), step.clone())
        .await;
    let mut heard = step.0.lock().unwrap().clone();
    heard.sort();
    assert_eq!(heard, vec![("bad".into(), "invalid_thing".into()), ("last".into(), "dependency_down".into())]);

    // When the DLQ send fails the record is retried, and the step hears nothing.
    let failing = Arc::new(FakeQueues::default());
    failing.fail_dead_letter.store(true, Ordering::SeqCst);
    let step = Arc::new(Noting::default());
    let records = vec![record("bad", r#"{"action":"invalid"}"#, 1, None)];
    runner(failing, false).run(sqs_event(records), None, Arc::new(JsonBody::<Cmd>::default()), step.clone()).await;
    assert!(step.0.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_retry_after_sets_the_least_wait() {
    let queues = Arc::new(FakeQueues::default());
    let event = sqs_event(vec![record("t", r#"{"action":"throttled"}"#, 1, None)]);
    runner(queues.clone(), false)
        .run(event, None, Arc::new(JsonBody::<Cmd>::default()), Arc::new(FnStep(action)))
        .await;
    // The backoff alone would say 1–2 s on the first receive; the provider said 600.
    assert_eq!(queues.visibility_changes(), vec![("rh-t".to_owned(), 600)]);
}

#[tokio::test]
async fn a_retry_that_would_outlive_the_queue_retention_is_dead_lettered_now() {
    let queues = Arc::new(FakeQueues::default());
    let retention = crate::retry::STANDARD.retention();
    let mut old = record("o", r#"{"action":"retry"}"#, 3, None);
    let sent = chrono::Utc::now() - chrono::Duration::from_std(retention).unwrap() + chrono::Duration::minutes(30);
    old.attributes.insert("SentTimestamp".to_owned(), sent.timestamp_millis().to_string());
    let resp = runner(queues.clone(), false)
        .run(sqs_event(vec![old]), None, Arc::new(JsonBody::<Cmd>::default()), Arc::new(FnStep(action)))
        .await;
    assert!(failures(&resp).is_empty());
    let letters = queues.dead_letters();
    assert_eq!(letters.len(), 1, "SQS would have deleted it before the retry");
    assert!(letters[0].reason.contains("deletes the message"), "{}", letters[0].reason);
}

#[tokio::test]
async fn the_settle_phase_answers_before_the_deadline_when_sqs_is_slow() {
    let queues = Arc::new(FakeQueues::default());
    queues.stall_for(std::time::Duration::from_secs(30));
    let deadline = chrono::Utc::now() + chrono::Duration::milliseconds(2500);
    let event = sqs_event(vec![
        record("p", r#"{"action":"invalid"}"#, 1, None),
        record("r", r#"{"action":"retry"}"#, 1, None),
        record("k", r#"{"action":"ok"}"#, 1, None),
    ]);
    let started = std::time::Instant::now();
    let resp = runner(queues.clone(), false)
        .run(event, Some(deadline), Arc::new(JsonBody::<Cmd>::default()), Arc::new(FnStep(action)))
        .await;
    assert!(chrono::Utc::now() < deadline, "answered {:?} after the start, past the deadline", started.elapsed());
    let mut failed = failures(&resp);
    failed.sort();
    // The permanent failure could not reach the DLQ in time, so it is not acknowledged;
    // the done record is.
    assert_eq!(failed, vec!["p", "r"]);
    assert!(queues.dead_letters().is_empty());
}
