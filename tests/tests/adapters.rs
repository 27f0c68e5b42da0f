//! The kit's and the activity log's adapters against the emulator, with resources
//! provisioned from the template (no functions running).

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use activity::dynamo::DynamoActivityStore;
use activity::{LoginEvent, LoginRecorder, RawLoginEvent};
use integration_tests::Driver;
use kit::clock::SystemClock;
use kit::idempotency::dynamodb::DynamoIdempotencyStore;
use kit::idempotency::{Idempotency, IdempotencyError, Once};
use kit::publisher::{EventPublisher, SnsPublisher};
use kit::queue::{DeadLetter, QueueOps, SqsQueues};
use kit::{Classify, Envelope, ErrorClass, Message};
use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error)]
#[error("provider failed")]
struct ProviderFailed;
impl Classify for ProviderFailed {
    fn class(&self) -> ErrorClass {
        ErrorClass::Retryable
    }
    fn kind(&self) -> &'static str {
        "provider_failed"
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotency_on_dynamodb_runs_work_once_replays_and_refuses_a_reused_key() {
    let d = Driver::start_resources_only().await;
    let store = DynamoIdempotencyStore::new(d.dynamodb(), d.table("IdempotencyTable"));
    let idem = Arc::new(Idempotency::new(store, SystemClock));
    let runs = Arc::new(AtomicU32::new(0));

    // Ten concurrent attempts on one key: exactly one runs the work.
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let (idem, runs) = (idem.clone(), runs.clone());
        tasks.push(tokio::spawn(async move {
            idem.once("create-ticket#r-1", "payload-1", None, || async {
                runs.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                Ok::<_, ProviderFailed>("ticket-1".to_owned())
            })
            .await
        }));
    }
    let mut fresh = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(Once::Fresh(v)) => {
                fresh += 1;
                assert_eq!(v, "ticket-1");
            }
            Ok(Once::Replayed(v)) => assert_eq!(v, "ticket-1"),
            Err(IdempotencyError::InProgress { .. }) => {}
            Err(e) => panic!("unexpected {e}"),
        }
    }
    assert_eq!((fresh, runs.load(Ordering::SeqCst)), (1, 1));

    let again = idem
        .once("create-ticket#r-1", "payload-1", None, || async { Ok::<_, ProviderFailed>("other".to_owned()) })
        .await;
    assert_eq!(again.unwrap(), Once::Replayed("ticket-1".to_owned()));

    let reused =
        idem.once("create-ticket#r-1", "payload-2", None, || async { Ok::<_, ProviderFailed>("x".to_owned()) }).await;
    let err = reused.unwrap_err();
    assert!(matches!(err, IdempotencyError::PayloadMismatch { .. }));
    assert_eq!(err.class(), ErrorClass::Permanent);

    // A failed attempt releases the key: the retry runs at once.
    let failed = idem.once("k2", "p", None, || async { Err::<String, _>(ProviderFailed) }).await;
    assert!(matches!(failed, Err(IdempotencyError::Work(_))));
    let retried = idem.once("k2", "p", None, || async { Ok::<_, ProviderFailed>("ok".to_owned()) }).await;
    assert_eq!(retried.unwrap(), Once::Fresh("ok".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_result_in_dynamodb_is_not_honoured() {
    let d = Driver::start_resources_only().await;
    let store = DynamoIdempotencyStore::new(d.dynamodb(), d.table("IdempotencyTable"));
    let idem = Idempotency::new(store, SystemClock).with_retention(chrono::Duration::seconds(-5));
    let first = idem.once("k", "p", None, || async { Ok::<_, ProviderFailed>(1) }).await.unwrap();
    let second = idem.once("k", "p", None, || async { Ok::<_, ProviderFailed>(2) }).await.unwrap();
    assert_eq!((first, second), (Once::Fresh(1), Once::Fresh(2)), "the stored result had expired");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqs_adapter_dead_letters_with_attributes_and_stretches_visibility() {
    let d = Driver::start_resources_only().await;
    let dlq_url = d.queue_url("LoginEventsDlq");
    let queues = SqsQueues::new(d.sqs(), dlq_url.clone());
    let source_arn = d.queue_arn("LoginEventsQueue");
    let letter = DeadLetter {
        source_arn: source_arn.clone(),
        message_id: "m-1".into(),
        body: "{\"x\":1}".into(),
        group_id: None,
        step: "record-login".into(),
        kind: "invalid_login_event".into(),
        class: ErrorClass::Permanent,
        reason: "invalid login event: timestamp is not an RFC 3339 date-time".into(),
        first_seen: Some(chrono::Utc::now()),
        receive_count: 1,
        correlation_id: "corr-1".into(),
    };
    queues.dead_letter(&letter).await.unwrap();
    let msgs = d.receive_all(&dlq_url).await;
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0].body, "{\"x\":1}");
    assert_eq!(msgs[0].attributes["error_kind"], "invalid_login_event");
    assert_eq!(msgs[0].attributes["correlation_id"], "corr-1");
    assert_eq!(msgs[0].attributes["source_queue"], source_arn);

    // Visibility: a message received with a long timeout is back at once when the
    // adapter sets its visibility to 0 (the same call the runner uses for backoff).
    let source = d.queue_url("LoginEventsQueue");
    d.sqs().send_message().queue_url(&source).message_body("{}").send().await.unwrap();
    let got =
        d.sqs().receive_message().queue_url(&source).visibility_timeout(600).wait_time_seconds(2).send().await.unwrap();
    let receipt = got.messages()[0].receipt_handle().unwrap().to_owned();
    queues.extend_visibility(&source_arn, &receipt, 0).await.unwrap();
    integration_tests::eventually("the message visible again", std::time::Duration::from_secs(10), || async {
        let again = d.sqs().receive_message().queue_url(&source).wait_time_seconds(1).send().await.ok()?;
        (!again.messages().is_empty()).then_some(())
    })
    .await;
}

#[derive(Debug, Serialize, Deserialize)]
struct Pinged {
    n: u32,
}
impl Message for Pinged {
    const TYPE: &'static str = "test.pinged";
    const VERSION: u32 = 1;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sns_publisher_delivers_the_envelope_with_filterable_attributes() {
    let d = Driver::start_resources_only().await;
    let (topic_arn, queue_url) = d.topic_with_raw_queue_subscription("pings").await;
    let publisher = SnsPublisher::new(d.sns(), topic_arn);
    let event = Envelope::new("wf-1", "corr-9", Pinged { n: 3 });
    publisher.publish(&event).await.unwrap();
    let msgs = d.receive_all(&queue_url).await;
    assert_eq!(msgs.len(), 1);
    let body: serde_json::Value = serde_json::from_str(&msgs[0].body).unwrap();
    assert_eq!(body["type"], "test.pinged");
    assert_eq!(body["correlation_id"], "corr-9");
    assert_eq!(body["payload"]["n"], 3);
    assert_eq!(msgs[0].attributes["type"], "test.pinged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_activity_store_counts_one_of_many_concurrent_copies_and_never_moves_backwards() {
    let d = Driver::start_resources_only().await;
    let store = Arc::new(DynamoActivityStore::new(d.dynamodb(), d.table("ActivityTable")));
    let now = chrono::Utc::now();
    let raw = |ts: &str| RawLoginEvent {
        user_id: "adapter-user".into(),
        service_id: "svc".into(),
        service_name: format!("name at {ts}"),
        timestamp: ts.into(),
        event_id: None,
        session_id: None,
    };
    let newest = LoginEvent::parse(raw("2024-06-02T00:00:00Z"), now).unwrap();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (store, e) = (store.clone(), newest.clone());
        tasks.push(tokio::spawn(async move { store.record(&e).await }));
    }
    let mut new_events = 0;
    for t in tasks {
        if t.await.unwrap().unwrap().new_event {
            new_events += 1;
        }
    }
    assert_eq!(new_events, 1, "exactly one copy is new");

    let older = LoginEvent::parse(raw("2024-06-01T00:00:00Z"), now).unwrap();
    let rec = store.record(&older).await.unwrap();
    assert!(rec.new_event && !rec.newest_for_service);

    use activity::ActivityReader;
    let services = store.services(&newest.user_id).await.unwrap();
    assert_eq!(services.len(), 1);
    assert_eq!(services[0].last_accessed, newest.timestamp);
    assert_eq!(services[0].service_name, "name at 2024-06-02T00:00:00Z");
    assert_eq!(services[0].login_count, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_lease_conditions_take_over_an_expired_lease_and_respect_a_live_one() {
    use aws_sdk_dynamodb::types::AttributeValue as Av;
    let d = Driver::start_resources_only().await;
    let table = d.table("IdempotencyTable");
    let now = chrono::Utc::now();
    let seed = |key: &str, lease_until: chrono::DateTime<chrono::Utc>| {
        d.dynamodb()
            .put_item()
            .table_name(&table)
            .item("id", Av::S(key.into()))
            .item("status", Av::S("INPROGRESS".into()))
            .item("payload_hash", Av::S(kit::idempotency::payload_hash("p")))
            .item("owner", Av::S("crashed-attempt".into()))
            .item("lease_until", Av::N(lease_until.timestamp_millis().to_string()))
            .item("expires_at", Av::N((now + chrono::Duration::days(1)).timestamp().to_string()))
            .send()
    };
    seed("expired-lease", now - chrono::Duration::seconds(5)).await.unwrap();
    seed("live-lease", now + chrono::Duration::seconds(60)).await.unwrap();
    let idem = Idempotency::new(DynamoIdempotencyStore::new(d.dynamodb(), table.clone()), SystemClock);

    let taken = idem.once("expired-lease", "p", None, || async { Ok::<_, ProviderFailed>(1) }).await.unwrap();
    assert_eq!(taken, Once::Fresh(1), "a crashed attempt's lease frees the key once it runs out");
    let held = idem.once("live-lease", "p", None, || async { Ok::<_, ProviderFailed>(2) }).await.unwrap_err();
    assert!(matches!(held, IdempotencyError::InProgress { .. }), "{held}");

    // The crashed attempt cannot complete a key someone else has since taken.
    use kit::idempotency::IdempotencyStore;
    let store = DynamoIdempotencyStore::new(d.dynamodb(), table);
    let kept = store.complete("expired-lease", "crashed-attempt", "9", now + chrono::Duration::days(1)).await.unwrap();
    assert!(!kept, "a lost lease must not overwrite the new owner's result");
    let replay = idem.once("expired-lease", "p", None, || async { Ok::<_, ProviderFailed>(3) }).await.unwrap();
    assert_eq!(replay, Once::Replayed(1));
}
