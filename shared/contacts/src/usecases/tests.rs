//! The use cases over the in-memory ports: given / when / then.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use kit::batch::Outcome;
use kit::testing::RecordingPublisher;
use serde_json::json;

use super::*;
use crate::messages::{CheckRecording, PollContact};
use crate::ports::ContactStore;
use crate::ports::Described;
use crate::recording::recording_key;
use crate::subscription::encode;
use crate::testing::{FakeDirectory, MemoryArchive, MemoryContactStore, RecordingQueue};
use crate::{ContactError, ContactId, ContactState, ContactView, RecordingState};

const INSTANCE: &str = "bd7c61d1-6722-4b4f-8c9c-6253e5a85c32";
const PREFIX: &str = "connect/example/CallRecordings";

fn t(min: u32, sec: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2023, 8, 29, 10, min, sec).single().unwrap()
}

fn contact_id(n: u32) -> ContactId {
    ContactId::parse(&format!("00000000-0000-4000-8000-{n:012}")).unwrap()
}

fn recording_line(id: &ContactId) -> String {
    json!({
        "ContactId": id.as_str(),
        "ContactFlowId": format!("arn:aws:connect:eu-west-2:123456789012:instance/{INSTANCE}/contact-flow/f"),
        "ContactFlowModuleType": "SetRecordingBehavior",
        "Timestamp": "2023-08-29T10:29:58.120Z",
        "Parameters": {"RecordingBehaviorOption": "Enable", "RecordingParticipantOption": "Both"},
    })
    .to_string()
}

fn delivery(lines: &[String]) -> serde_json::Value {
    let events: Vec<_> =
        lines.iter().enumerate().map(|(i, m)| json!({"id": i.to_string(), "timestamp": 0, "message": m})).collect();
    encode(&json!({"messageType": "DATA_MESSAGE", "logGroup": "/aws/connect/x", "logStream": "s", "logEvents": events}))
}

fn found(agent: Option<DateTime<Utc>>, disconnected: Option<DateTime<Utc>>) -> Described {
    Described::Found(ContactView {
        initiated_at: Some(t(29, 0)),
        agent_connected_at: agent,
        disconnected_at: disconnected,
    })
}

struct World {
    store: MemoryContactStore,
    connect: FakeDirectory,
    archive: MemoryArchive,
    polls: RecordingQueue,
    checks: RecordingQueue,
    alerts: RecordingPublisher,
    settings: CheckSettings,
}

impl World {
    fn new() -> Self {
        Self {
            store: MemoryContactStore::default(),
            connect: FakeDirectory::default(),
            archive: MemoryArchive::default(),
            polls: RecordingQueue::default(),
            checks: RecordingQueue::default(),
            alerts: RecordingPublisher::default(),
            settings: CheckSettings { key_prefix: PREFIX.to_owned(), grace: Duration::from_secs(600) },
        }
    }

    async fn sweep(&self) -> SweepSummary {
        sweep(&self.store, &self.polls, &self.checks, "slot").await.unwrap()
    }

    async fn poll(&self, id: &ContactId, now: DateTime<Utc>) -> Result<Outcome, ContactError> {
        poll_contact(&self.store, &self.connect, &PollContact { contact_id: id.to_string() }, now).await
    }

    async fn check(&self, id: &ContactId, now: DateTime<Utc>) -> Result<Outcome, ContactError> {
        let msg = CheckRecording { contact_id: id.to_string() };
        check_recording(&self.store, &self.archive, &self.alerts, &self.settings, &msg, now).await
    }

    fn state(&self, id: &ContactId) -> Option<ContactState> {
        self.store.contact(id).map(|c| c.state)
    }
}

#[tokio::test]
async fn a_delivery_caches_each_recorded_contact_once_and_a_replay_changes_nothing() {
    let w = World::new();
    let (a, b) = (contact_id(1), contact_id(2));
    let payload = delivery(&[recording_line(&a), "not json".into(), recording_line(&b), recording_line(&a)]);

    let first = ingest(&w.store, &payload, t(30, 0)).await.unwrap();
    assert_eq!((first.log_events, first.cached, first.ignored), (4, 2, 1));
    let before = w.store.all();

    let replay = ingest(&w.store, &payload, t(35, 0)).await.unwrap();
    assert_eq!((replay.cached, replay.already_cached), (0, 3));
    assert_eq!(w.store.all(), before, "the replay changed nothing, not even timestamps");
    assert_eq!(w.state(&a), Some(ContactState::Initialised));
}

#[tokio::test]
async fn a_malformed_delivery_is_a_permanent_error_with_its_reason() {
    let w = World::new();
    let err = ingest(&w.store, &json!({"awslogs": {"data": "%%%"}}), t(30, 0)).await.unwrap_err();
    assert_eq!(kit::Classify::class(&err), kit::ErrorClass::Permanent);
    assert_eq!(kit::Classify::kind(&err), "malformed_payload");
    assert!(err.to_string().contains("base64"), "{err}");
}

#[tokio::test]
async fn a_failed_write_fails_the_delivery_and_its_retry_completes_it() {
    let w = World::new();
    let payload = delivery(&[recording_line(&contact_id(1)), recording_line(&contact_id(2))]);
    w.store.fail_next(1);
    let err = ingest(&w.store, &payload, t(30, 0)).await.unwrap_err();
    assert_eq!(kit::Classify::class(&err), kit::ErrorClass::Retryable);
    assert_eq!(kit::Classify::dependency(&err), None, "DynamoDB is no outside provider");
    let retry = ingest(&w.store, &payload, t(30, 5)).await.unwrap();
    assert_eq!(retry.cached + retry.already_cached, 2);
    assert_eq!(w.store.all().len(), 2);
}

#[tokio::test]
async fn a_full_lifecycle_queue_agent_completed_recorded() {
    let w = World::new();
    let id = contact_id(1);
    ingest(&w.store, &delivery(&[recording_line(&id)]), t(30, 0)).await.unwrap();
    w.connect.script(&id, vec![found(None, None), found(Some(t(31, 0)), None), found(Some(t(31, 0)), Some(t(33, 0)))]);

    let s = w.sweep().await;
    assert_eq!((s.to_poll, s.to_check), (1, 0));
    w.poll(&id, t(30, 5)).await.unwrap();
    assert_eq!(w.state(&id), Some(ContactState::InProgressQueue));
    w.poll(&id, t(31, 5)).await.unwrap();
    assert_eq!(w.state(&id), Some(ContactState::InProgressAgent));
    w.poll(&id, t(35, 0)).await.unwrap();
    assert_eq!(w.state(&id), Some(ContactState::CompletedAgent));

    let s = w.sweep().await;
    assert_eq!((s.to_poll, s.to_check), (0, 1));
    w.archive.put(recording_key(PREFIX, id.as_str(), t(33, 30)));
    assert_eq!(w.check(&id, t(35, 0)).await.unwrap(), Outcome::Done);
    let c = w.store.contact(&id).unwrap();
    assert_eq!(c.recording_state, Some(RecordingState::Recorded));
    assert!(c.recording_key.unwrap().ends_with("_UTC.wav"));
    assert!(w.alerts.published().is_empty());

    let s = w.sweep().await;
    assert_eq!((s.to_poll, s.to_check, s.deleted), (0, 0, 0), "nothing left to do");
}

#[tokio::test]
async fn an_unrecorded_call_waits_out_the_grace_period_then_alerts_once() {
    let w = World::new();
    let id = contact_id(1);
    ingest(&w.store, &delivery(&[recording_line(&id)]), t(30, 0)).await.unwrap();
    w.connect.script(&id, vec![found(Some(t(31, 0)), Some(t(33, 0)))]);
    w.poll(&id, t(34, 0)).await.unwrap();

    // Five minutes after the call: too early to say.
    w.check(&id, t(38, 0)).await.unwrap();
    assert_eq!(w.store.contact(&id).unwrap().recording_state, None);
    assert_eq!(w.sweep().await.to_check, 1, "still swept");

    // Past the grace period: missing, one alert.
    w.check(&id, t(44, 0)).await.unwrap();
    let c = w.store.contact(&id).unwrap();
    assert_eq!(c.recording_state, Some(RecordingState::Missing));
    assert!(c.alert_sent_at.is_some());
    let alerts = w.alerts.of_type("contact.recording-missing");
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0]["payload"]["contact_id"], id.as_str());
    assert_eq!(alerts[0]["correlation_id"], id.as_str());

    // Redeliveries and later sweeps change nothing and alert no more.
    assert_eq!(w.check(&id, t(50, 0)).await.unwrap(), Outcome::Duplicate);
    assert_eq!(w.sweep().await.to_check, 0);
    assert_eq!(w.alerts.published().len(), 1);
}

#[tokio::test]
async fn a_lost_alert_is_sent_by_the_retry_and_still_only_once() {
    let w = World::new();
    let id = contact_id(1);
    ingest(&w.store, &delivery(&[recording_line(&id)]), t(30, 0)).await.unwrap();
    w.connect.script(&id, vec![found(Some(t(31, 0)), Some(t(33, 0)))]);
    w.poll(&id, t(34, 0)).await.unwrap();

    w.alerts.fail_next(1);
    let err = w.check(&id, t(50, 0)).await.unwrap_err();
    assert_eq!(kit::Classify::class(&err), kit::ErrorClass::Retryable);
    assert_eq!(w.store.contact(&id).unwrap().recording_state, Some(RecordingState::Missing));
    assert_eq!(w.sweep().await.to_check, 1, "kept on the sweep until the alert is out");

    w.check(&id, t(51, 0)).await.unwrap();
    w.check(&id, t(52, 0)).await.unwrap();
    assert_eq!(w.alerts.published().len(), 1);
    assert_eq!(w.sweep().await.to_check, 0);
}

#[tokio::test]
async fn a_queue_only_call_is_deleted_by_the_sweep() {
    let w = World::new();
    let id = contact_id(1);
    ingest(&w.store, &delivery(&[recording_line(&id)]), t(30, 0)).await.unwrap();
    w.connect.script(&id, vec![found(None, Some(t(31, 0)))]);
    w.poll(&id, t(32, 0)).await.unwrap();
    assert_eq!(w.state(&id), Some(ContactState::CompletedQueue));
    assert_eq!(w.sweep().await.deleted, 1);
    assert_eq!(w.state(&id), None);
    // A poll message from before the delete finds nothing to do.
    assert_eq!(w.poll(&id, t(33, 0)).await.unwrap(), Outcome::Duplicate);
    assert_eq!(w.connect.calls(), 1);
}

#[tokio::test]
async fn states_never_move_backwards() {
    let w = World::new();
    let id = contact_id(1);
    ingest(&w.store, &delivery(&[recording_line(&id)]), t(30, 0)).await.unwrap();
    // Connect answers out of order (a stale read): agent, then queue again.
    w.connect.script(&id, vec![found(Some(t(31, 0)), None), found(None, None)]);
    w.poll(&id, t(31, 5)).await.unwrap();
    assert_eq!(w.poll(&id, t(31, 10)).await.unwrap(), Outcome::Done);
    assert_eq!(w.state(&id), Some(ContactState::InProgressAgent));
}

#[tokio::test]
async fn a_throttled_describe_is_a_retryable_error_that_changes_nothing() {
    let w = World::new();
    let id = contact_id(1);
    ingest(&w.store, &delivery(&[recording_line(&id)]), t(30, 0)).await.unwrap();
    w.connect.script(&id, vec![found(Some(t(31, 0)), None)]);
    w.connect.throttle_next(1);
    let err = w.poll(&id, t(31, 5)).await.unwrap_err();
    assert_eq!(kit::Classify::class(&err), kit::ErrorClass::Retryable);
    assert_eq!(kit::Classify::kind(&err), "connect_throttled");
    assert_eq!(kit::Classify::dependency(&err), Some("connect"), "counted against Connect for its outage alarm");
    assert_eq!(w.state(&id), Some(ContactState::Initialised));
    w.poll(&id, t(31, 10)).await.unwrap();
    assert_eq!(w.state(&id), Some(ContactState::InProgressAgent));
}

#[tokio::test]
async fn a_contact_connect_does_not_know_is_closed_with_a_reason() {
    let w = World::new();
    let id = contact_id(1);
    ingest(&w.store, &delivery(&[recording_line(&id)]), t(30, 0)).await.unwrap();
    assert_eq!(w.poll(&id, t(31, 0)).await.unwrap(), Outcome::Done);
    let c = w.store.contact(&id).unwrap();
    assert_eq!(c.state, ContactState::Closed);
    assert!(c.closed_reason.unwrap().contains("ResourceNotFoundException"));
    assert_eq!(w.sweep().await.to_poll, 0, "never polled again");
}

#[tokio::test]
async fn repeated_sweeps_send_the_same_work_with_the_same_ids() {
    let w = World::new();
    for n in 0..150 {
        ingest(&w.store, &delivery(&[recording_line(&contact_id(n))]), t(30, 0)).await.unwrap();
    }
    let s = w.sweep().await;
    assert_eq!(s.to_poll, 150, "every page");
    let first: Vec<_> = w.polls.sent().iter().map(|m| m["id"].clone()).collect();
    sweep(&w.store, &w.polls, &w.checks, "slot").await.unwrap();
    let second: Vec<_> = w.polls.sent()[150..].iter().map(|m| m["id"].clone()).collect();
    assert_eq!(first, second);
    assert_eq!(w.store.all().len(), 150, "a sweep writes nothing");
}

#[tokio::test]
async fn twin_checks_at_once_send_one_alert() {
    let w = World::new();
    let id = contact_id(1);
    ingest(&w.store, &delivery(&[recording_line(&id)]), t(30, 0)).await.unwrap();
    w.connect.script(&id, vec![found(Some(t(31, 0)), Some(t(33, 0)))]);
    w.poll(&id, t(34, 0)).await.unwrap();
    let (a, b) = tokio::join!(w.check(&id, t(50, 0)), w.check(&id, t(50, 0)));
    a.unwrap();
    b.unwrap();
    assert_eq!(w.alerts.published().len(), 1);
    // Another attempt while one holds the claim (it crashed after publishing) sends nothing...
    let other = contact_id(2);
    ingest(&w.store, &delivery(&[recording_line(&other)]), t(30, 0)).await.unwrap();
    w.connect.script(&other, vec![found(Some(t(31, 0)), Some(t(33, 0)))]);
    w.poll(&other, t(34, 0)).await.unwrap();
    w.store.record_recording(&other, RecordingState::Missing, None, t(50, 0)).await.unwrap();
    assert!(w.store.claim_alert(&other, t(50, 0), t(52, 0)).await.unwrap());
    assert_eq!(w.check(&other, t(51, 0)).await.unwrap(), Outcome::Duplicate);
    // ...until the claim has expired.
    w.check(&other, t(53, 0)).await.unwrap();
    assert_eq!(w.alerts.of_type("contact.recording-missing").len(), 2);
}
