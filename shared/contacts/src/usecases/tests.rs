//! The use cases over the in-memory ports: given / when / then.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use kit::batch::Outcome;
use kit::testing::RecordingPublisher;
use serde_json::json;

use super::*;
use crate::messages::{CheckRecording, PollContact};
use crate::ports::ContactStore;
use crate::ports::{Described, FlowLogHeartbeat};
use crate::recording::recording_key;
use crate::subscription::encode;
use crate::testing::{FakeDirectory, MemoryArchive, MemoryContactStore, RecordingQueue};
use crate::{Channel, ContactError, ContactId, ContactState, ContactView, RecordingState};

const INSTANCE: &str = "bd7c61d1-6722-4b4f-8c9c-6253e5a85c32";
const PREFIX: &str = "connect/example/CallRecordings";

fn t(min: u32, sec: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2023, 8, 29, 10, min, sec).single().unwrap()
}

fn contact_id(n: u32) -> ContactId {
    ContactId::parse(&format!("00000000-0000-4000-8000-{n:012}")).unwrap()
}

fn recording_line(id: &ContactId) -> String {
    setting_line(id, "2023-08-29T10:29:58.120Z", "Enable")
}

/// A "Set recording and analytics behavior" line run at `at`, turning recording `option`.
fn setting_line(id: &ContactId, at: &str, option: &str) -> String {
    json!({
        "ContactId": id.as_str(),
        "ContactFlowId": format!("arn:aws:connect:eu-west-2:123456789012:instance/{INSTANCE}/contact-flow/f"),
        "ContactFlowModuleType": "SetRecordingBehavior",
        "Timestamp": at,
        "Parameters": {"RecordingBehaviorOption": option, "RecordingParticipantOption": "Both"},
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
        channel: Some(Channel::Voice),
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
    sweep: SweepSettings,
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
            sweep: SweepSettings { poll_queue_cap: 1000, poll_lease: Duration::from_secs(3600) },
        }
    }

    /// A sweep at the end of the hour these tests play in.
    async fn sweep(&self) -> SweepSummary {
        self.sweep_at(t(59, 0)).await.unwrap()
    }

    async fn sweep_at(&self, now: DateTime<Utc>) -> Result<SweepSummary, ContactError> {
        sweep(&self.store, &self.polls, &self.checks, &self.sweep, "slot", now).await
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
    assert_eq!((first.log_events, first.recording_settings, first.contacts), (4, 3, 2));
    assert_eq!((first.cached, first.ignored), (2, 1));
    let before = w.store.all();

    let replay = ingest(&w.store, &payload, t(35, 0)).await.unwrap();
    assert_eq!((replay.cached, replay.updated, replay.already_cached), (0, 0, 2));
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
    assert_eq!(w.store.heartbeat().await.unwrap().last_delivery_at, Some(t(30, 5)), "noted once it succeeded");
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

/// Issue 16: every sweep used to re-send every contact still to be polled, so a
/// backlog behind Connect's quota grew by the whole in-progress set every five minutes.
#[tokio::test]
async fn a_contact_whose_poll_is_out_is_not_sent_again_until_polled() {
    let w = World::new();
    for n in 0..150 {
        ingest(&w.store, &delivery(&[recording_line(&contact_id(n))]), t(30, 0)).await.unwrap();
    }
    let first = w.sweep_at(t(35, 0)).await.unwrap();
    assert_eq!((first.to_poll, first.poll_pending), (150, 150), "every page");
    let again = w.sweep_at(t(40, 0)).await.unwrap();
    assert_eq!((again.to_poll, again.poll_in_flight), (0, 150), "all still out: nothing re-sent");
    assert_eq!(w.polls.sent().len(), 150);

    // Polled (unchanged, still queued at Connect): due again at the next sweep.
    w.connect.script(&contact_id(7), vec![found(None, None)]);
    w.poll(&contact_id(7), t(41, 0)).await.unwrap();
    let next = w.sweep_at(t(45, 0)).await.unwrap();
    assert_eq!(next.to_poll, 1);
    assert_eq!(w.polls.contact_ids().last().map(String::as_str), Some(contact_id(7).as_str()));
}

#[tokio::test]
async fn a_lost_poll_message_is_sent_again_once_its_lease_is_up() {
    let w = World::new();
    let id = contact_id(1);
    ingest(&w.store, &delivery(&[recording_line(&id)]), t(30, 0)).await.unwrap();
    assert_eq!(w.sweep_at(t(30, 0)).await.unwrap().to_poll, 1);
    // The message is never polled (dead-lettered, say): within the lease, nothing...
    assert_eq!(w.sweep_at(t(59, 0)).await.unwrap().to_poll, 0);
    // ...after it, another.
    let later = t(30, 0) + chrono::Duration::hours(1) + chrono::Duration::seconds(1);
    assert_eq!(w.sweep_at(later).await.unwrap().to_poll, 1);
}

/// Issue 16: the queue is kept within what Connect's quota serves before the next
/// sweep; the rest wait in the table, longest-unpolled first.
#[tokio::test]
async fn the_poll_queue_stays_within_its_cap_longest_unpolled_first() {
    let mut w = World::new();
    w.sweep.poll_queue_cap = 10;
    for n in 0..30 {
        ingest(&w.store, &delivery(&[recording_line(&contact_id(n))]), t(30, 0)).await.unwrap();
    }
    let first = w.sweep_at(t(35, 0)).await.unwrap();
    assert_eq!((first.to_poll, first.poll_deferred), (10, 20));
    // None of those polled yet: the next sweep adds nothing.
    let full = w.sweep_at(t(40, 0)).await.unwrap();
    assert_eq!((full.to_poll, full.poll_in_flight, full.poll_deferred), (0, 10, 20));

    let first_ten: Vec<String> = w.polls.contact_ids();
    for id in &first_ten {
        let id = ContactId::parse(id).unwrap();
        w.connect.script(&id, vec![found(None, None)]);
        w.poll(&id, t(41, 0)).await.unwrap();
    }
    let next = w.sweep_at(t(45, 0)).await.unwrap();
    assert_eq!(next.to_poll, 10);
    let second_ten: Vec<String> = w.polls.contact_ids()[10..].to_vec();
    assert!(second_ten.iter().all(|id| !first_ten.contains(id)), "the never-polled go before the just-polled");
}

/// Issue 16: a sweep that failed while sending polls never got to the checks.
#[tokio::test]
async fn recording_checks_go_out_even_when_polls_cannot() {
    let w = World::new();
    let (done, waiting) = (contact_id(1), contact_id(2));
    ingest(&w.store, &delivery(&[recording_line(&done), recording_line(&waiting)]), t(30, 0)).await.unwrap();
    w.connect.script(&done, vec![found(Some(t(31, 0)), Some(t(33, 0)))]);
    w.poll(&done, t(34, 0)).await.unwrap();

    w.polls.fail_next(1);
    let err = w.sweep_at(t(35, 0)).await.unwrap_err();
    assert_eq!(kit::Classify::class(&err), kit::ErrorClass::Retryable);
    assert_eq!(w.checks.contact_ids(), [done.to_string()], "the check went out");
    assert!(w.polls.sent().is_empty());
    // The unsent poll's claim was given back: the next sweep sends it.
    assert_eq!(w.sweep_at(t(40, 0)).await.unwrap().to_poll, 1);
}

/// Issue 16: the customer opted out in the IVR (recording enabled, then turned
/// off), the agent took the call, and there is, rightly, no recording. The lines
/// arrive in separate deliveries, the later one first.
#[tokio::test]
async fn a_call_whose_recording_was_switched_off_is_not_expected_and_not_alerted() {
    let w = World::new();
    let id = contact_id(1);
    let off = ingest(&w.store, &delivery(&[setting_line(&id, "2023-08-29T10:30:20.000Z", "Disable")]), t(30, 30))
        .await
        .unwrap();
    assert_eq!(off.cached, 1);
    assert_eq!(w.sweep().await.to_poll, 0, "only switched off so far: not watched");
    let on = ingest(&w.store, &delivery(&[setting_line(&id, "2023-08-29T10:30:00.000Z", "Enable")]), t(30, 40))
        .await
        .unwrap();
    assert_eq!(on.updated, 1);
    assert_eq!(w.sweep().await.to_poll, 1, "watched once a setting turns recording on");

    w.connect.script(&id, vec![found(Some(t(31, 0)), Some(t(33, 0)))]);
    w.poll(&id, t(34, 0)).await.unwrap();
    assert_eq!(w.check(&id, t(38, 0)).await.unwrap(), Outcome::Done, "too early to say");
    assert_eq!(w.store.contact(&id).unwrap().recording_state, None);
    w.check(&id, t(44, 0)).await.unwrap();
    let c = w.store.contact(&id).unwrap();
    assert_eq!(c.recording_state, Some(RecordingState::NotExpected));
    assert!(c.recording_checked_at.is_some() && c.alert_sent_at.is_none());
    assert!(w.alerts.published().is_empty(), "no alert");
    let s = w.sweep().await;
    assert_eq!((s.to_poll, s.to_check), (0, 0), "nothing left to do");
}

#[tokio::test]
async fn a_recording_switched_off_only_after_the_agent_connected_is_still_expected() {
    let w = World::new();
    let id = contact_id(1);
    let lines = [recording_line(&id), setting_line(&id, "2023-08-29T10:32:00.000Z", "Disable")];
    ingest(&w.store, &delivery(&lines), t(30, 0)).await.unwrap();
    w.connect.script(&id, vec![found(Some(t(31, 0)), Some(t(33, 0)))]);
    w.poll(&id, t(34, 0)).await.unwrap();
    w.check(&id, t(44, 0)).await.unwrap();
    assert_eq!(w.store.contact(&id).unwrap().recording_state, Some(RecordingState::Missing));
    assert_eq!(w.alerts.of_type("contact.recording-missing").len(), 1);
}

/// Issue 16: a chat or task through a shared flow ran the recording block too.
#[tokio::test]
async fn chat_and_task_contacts_are_not_applicable_and_never_checked() {
    let w = World::new();
    for (n, channel) in [(1, Channel::Chat), (2, Channel::Task)] {
        let id = contact_id(n);
        ingest(&w.store, &delivery(&[recording_line(&id)]), t(30, 0)).await.unwrap();
        let view = ContactView {
            channel: Some(channel),
            initiated_at: Some(t(29, 0)),
            agent_connected_at: Some(t(31, 0)),
            disconnected_at: Some(t(33, 0)),
        };
        w.connect.script(&id, vec![Described::Found(view)]);
        assert_eq!(w.poll(&id, t(34, 0)).await.unwrap(), Outcome::Done);
        let c = w.store.contact(&id).unwrap();
        assert_eq!(c.recording_state, Some(RecordingState::NotApplicable));
        assert_eq!(c.channel, Some(channel));
    }
    let s = w.sweep().await;
    assert_eq!((s.to_poll, s.to_check), (0, 0));
    assert_eq!(w.check(&contact_id(1), t(50, 0)).await.unwrap(), Outcome::Duplicate);
    assert!(w.alerts.published().is_empty());
}

#[tokio::test]
async fn the_watch_reports_the_subscription_silent_and_a_delivery_ends_it() {
    let w = World::new();
    let settings = WatchSettings { silence: Duration::from_secs(1800) };
    assert!(!watch_flow_logs(&w.store, &settings, t(0, 0)).await.unwrap().silent, "the window starts");
    assert!(!watch_flow_logs(&w.store, &settings, t(10, 0)).await.unwrap().silent);
    assert!(watch_flow_logs(&w.store, &settings, t(30, 0)).await.unwrap().silent);
    ingest(&w.store, &delivery(&["not a recording line".into()]), t(31, 0)).await.unwrap();
    let report = watch_flow_logs(&w.store, &settings, t(35, 0)).await.unwrap();
    assert!(!report.silent, "any delivery counts: {report:?}");
    assert_eq!(report.quiet_for_secs, 240);
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

/// A contact a poll moved on while the sweep paged, found in both states' pages
/// (seen under load: BatchGetItem refused the duplicate key and the sweep failed).
struct MovedWhilePaging(std::sync::Arc<MemoryContactStore>, ContactId);

#[async_trait::async_trait]
impl crate::ports::PendingContacts for MovedWhilePaging {
    async fn pending(
        &self,
        state: ContactState,
        after: Option<crate::dynamo::Cursor>,
        limit: u32,
    ) -> Result<crate::ports::Page<ContactId>, crate::ports::StoreError> {
        let mut page = self.0.pending(state, after, limit).await?;
        if state == ContactState::InProgressQueue {
            page.items.push(self.1.clone());
        }
        Ok(page)
    }
    async fn poll_candidates(
        &self,
        ids: &[ContactId],
    ) -> Result<Vec<crate::ports::PollCandidate>, crate::ports::StoreError> {
        self.0.poll_candidates(ids).await
    }
    async fn claim_poll(
        &self,
        id: &ContactId,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, crate::ports::StoreError> {
        self.0.claim_poll(id, now, until).await
    }
    async fn unclaim_poll(&self, id: &ContactId, until: DateTime<Utc>) -> Result<(), crate::ports::StoreError> {
        self.0.unclaim_poll(id, until).await
    }
    async fn delete(&self, ids: &[ContactId]) -> Result<(), crate::ports::StoreError> {
        self.0.delete(ids).await
    }
}

#[tokio::test]
async fn a_contact_found_in_two_states_while_paging_is_polled_once() {
    let w = World::new();
    let store = std::sync::Arc::new(MemoryContactStore::default());
    let id = contact_id(1);
    ingest(store.as_ref(), &delivery(&[recording_line(&id)]), t(30, 0)).await.unwrap();
    let moving = MovedWhilePaging(store, id.clone());
    let s = sweep(&moving, &w.polls, &w.checks, &w.sweep, "slot", t(35, 0)).await.unwrap();
    assert_eq!((s.poll_pending, s.to_poll), (1, 1));
}
