//! The system's promises over in-memory ports: one record and one notification per
//! recipient per accepted action whatever the redeliveries, none for refused ones,
//! chains built in order, searches paged, users kept to their own notifications.

use chrono::{DateTime, Duration, Utc};
use kit::batch::Outcome;
use kit::testing::RecordingPublisher;
use kit::{Classify, Envelope, ErrorClass};
use serde_json::{json, Value};

use super::*;
use crate::messages::WorkflowAction;
use crate::request::{ActionBody, NewWorkflowBody};
use crate::roles::{Role, Roles};
use crate::testing::{MemoryAudit, MemoryNotifications, MemoryWorkflows, RecordingChannel, TestSigningKey};
use crate::workflow::{Caller, Refusal, WorkflowState};
use crate::{AuditError, UserId};

const PREFIX: &str = "notifications-";

fn t0() -> DateTime<Utc> {
    "2024-06-01T12:00:00Z".parse().unwrap()
}

fn who(user: &str, roles: &[Role]) -> Caller {
    Caller { user: UserId::parse(user).unwrap(), roles: Roles::of(roles) }
}

fn alice() -> Caller {
    who("alice", &[Role::Requester])
}
fn bob() -> Caller {
    who("bob", &[Role::Approver])
}
fn auditor() -> Caller {
    who("dave", &[Role::Auditor])
}

#[derive(Default)]
struct World {
    workflows: MemoryWorkflows,
    publisher: RecordingPublisher,
    audit: MemoryAudit,
    notifications: MemoryNotifications,
    channel: RecordingChannel,
    key: TestSigningKey,
    clock: std::sync::Mutex<i64>,
}

impl World {
    fn ctx(&self) -> RequestContext {
        let mut tick = self.clock.lock().unwrap();
        *tick += 1;
        RequestContext { now: t0() + Duration::seconds(*tick), correlation_id: format!("corr-{tick}") }
    }

    async fn create(&self, id: &str, scheme: &str) -> Result<Accepted, AuditError> {
        let body = NewWorkflowBody {
            workflow_id: Some(id.into()),
            scheme: scheme.into(),
            title: Some("Roof repair".into()),
            approvers: vec!["bob".into(), "carol".into()],
            data: Some(json!({"amount": 1200})),
            comment: None,
        };
        create_workflow(&self.workflows, &self.publisher, &alice(), body, &self.ctx()).await
    }

    async fn act(&self, caller: &Caller, id: &str, action: &str, data: Option<Value>) -> Result<Accepted, AuditError> {
        let body = ActionBody { action: action.into(), data, comment: Some(format!("{action} it")) };
        act(&self.workflows, &self.publisher, caller, id, Ok(body), &self.ctx()).await
    }

    fn events(&self) -> Vec<Envelope<WorkflowAction>> {
        self.publisher.of_type("workflow.action").into_iter().map(|v| serde_json::from_value(v).unwrap()).collect()
    }

    /// Delivers every published event to both steps (as the two subscriptions would).
    async fn deliver_all(&self) {
        for e in self.events() {
            append_record(&self.audit, &self.key, &e, t0()).await.unwrap();
            notify(&self.notifications, &self.channel, PREFIX, &e, t0()).await.unwrap();
        }
    }
}

#[tokio::test]
async fn draft_to_approved_yields_one_record_and_one_notification_per_recipient_per_action() {
    let w = World::default();
    w.create("wf-1", "grants").await.unwrap();
    w.act(&alice(), "wf-1", "save", Some(json!({"amount": 1500}))).await.unwrap();
    w.act(&alice(), "wf-1", "request", None).await.unwrap();
    let done = w.act(&bob(), "wf-1", "approve", None).await.unwrap();
    assert_eq!(done.workflow.state, WorkflowState::Approved);
    assert_eq!(done.workflow.seq, 4);
    assert_eq!(w.workflows.workflow("wf-1").unwrap().announced_seq, 4);

    // Every event three times, interleaved.
    for _ in 0..3 {
        w.deliver_all().await;
    }
    let records = w.audit.all();
    assert_eq!(records.iter().map(|r| r.seq).collect::<Vec<_>>(), vec![1, 2, 3, 4]);
    assert_eq!(records[3].actor, "bob");
    assert_eq!(records[3].step_id, "approval");
    assert_eq!(records[1].data_value(), json!({"amount": 1500}));
    assert!(verify(&w.audit, &w.workflows, &w.key, &auditor(), Some("wf-1")).await.unwrap().valid);

    // save, save: alice; request, approve: alice, bob, carol.
    assert_eq!(w.notifications.of("alice").len(), 4);
    assert_eq!(w.notifications.of("bob").len(), 2);
    assert_eq!(w.notifications.of("carol").len(), 2);
    let published = w.channel.published();
    assert_eq!(published.len(), 8, "each notification published once");
    assert!(published.iter().all(|(topic, p)| topic.starts_with(PREFIX) && p["notificationId"].is_string()));
    assert!(w.notifications.all().iter().all(|n| n.published_at.is_some()));
}

#[tokio::test]
async fn refused_actions_change_nothing_and_publish_nothing() {
    let w = World::default();
    w.create("wf-1", "grants").await.unwrap();
    let before = w.publisher.published().len();
    let self_approver = who("alice", &[Role::Requester, Role::Approver]);
    type Expect = fn(&AuditError) -> bool;
    let cases: Vec<(Caller, &str, Expect)> = vec![
        (bob(), "approve", |e| matches!(e, AuditError::Refused(Refusal::InvalidTransition(_)))),
        (self_approver, "approve", |e| matches!(e, AuditError::Refused(Refusal::Forbidden(_)))),
        (bob(), "save", |e| matches!(e, AuditError::Refused(Refusal::Forbidden(_)))),
        (who("mallory", &[Role::Requester]), "save", |e| matches!(e, AuditError::NotFound)),
    ];
    // A stranger's bad body is still "not found": nothing is validated for them.
    let bad = Err(crate::InvalidInput::new("not JSON"));
    let stranger = who("mallory", &[Role::Requester]);
    assert!(matches!(
        act(&w.workflows, &w.publisher, &stranger, "wf-1", bad, &w.ctx()).await,
        Err(AuditError::NotFound)
    ));
    for (caller, action, expected) in cases {
        let err = w.act(&caller, "wf-1", action, None).await.unwrap_err();
        assert!(expected(&err), "{} {action}: {err:?}", caller.user);
        assert_eq!(err.class(), ErrorClass::Permanent);
    }
    assert_eq!(w.publisher.published().len(), before);
    let wf = w.workflows.workflow("wf-1").unwrap();
    assert_eq!((wf.seq, wf.state), (1, WorkflowState::Draft));
}

#[tokio::test]
async fn a_lost_publish_is_a_503_and_the_retry_announces_the_same_action_once() {
    let w = World::default();
    w.create("wf-1", "grants").await.unwrap();
    w.publisher.fail_next(1);
    let err = w.act(&alice(), "wf-1", "request", None).await.unwrap_err();
    assert!(matches!(err, AuditError::NotAnnounced { seq: 2, .. }), "{err:?}");
    assert_eq!(err.class(), ErrorClass::Retryable);
    assert_eq!(w.workflows.workflow("wf-1").unwrap().state, WorkflowState::Requested, "the action is recorded");

    // Nobody can act on top of an unannounced action; the retry is answered as the original.
    let retry = w.act(&alice(), "wf-1", "request", None).await.unwrap();
    assert!(retry.replayed);
    assert_eq!(retry.workflow.seq, 2);
    let ids: Vec<String> = w.events().iter().map(|e| e.id.clone()).collect();
    assert_eq!(ids, vec!["workflow.action:wf-1:1", "workflow.action:wf-1:2"]);
    // And the workflow moves on normally.
    assert_eq!(w.act(&bob(), "wf-1", "approve", None).await.unwrap().workflow.seq, 3);
}

#[tokio::test]
async fn another_action_after_a_lost_publish_announces_the_pending_one_first() {
    let w = World::default();
    w.create("wf-1", "grants").await.unwrap();
    w.publisher.fail_next(1);
    assert!(w.act(&alice(), "wf-1", "request", None).await.is_err());
    // Bob approves before Alice retries: her request goes out first, then his decision.
    let approved = w.act(&bob(), "wf-1", "approve", None).await.unwrap();
    assert!(!approved.replayed);
    let seqs: Vec<u64> = w.events().iter().map(|e| e.payload.seq).collect();
    assert_eq!(seqs, vec![1, 2, 3]);
}

#[tokio::test]
async fn a_failed_announcement_mark_republishes_the_same_event_and_consumers_dedupe() {
    let w = World::default();
    *w.workflows.fail_marks.lock().unwrap() = 1;
    w.create("wf-1", "grants").await.unwrap();
    // The next request publishes action 1 again (same id), then its own.
    w.act(&alice(), "wf-1", "save", None).await.unwrap();
    let ids: Vec<String> = w.events().iter().map(|e| e.id.clone()).collect();
    assert_eq!(ids, vec!["workflow.action:wf-1:1", "workflow.action:wf-1:1", "workflow.action:wf-1:2"]);
    w.deliver_all().await;
    assert_eq!(w.audit.all().len(), 2);
    assert_eq!(w.notifications.of("alice").len(), 2);
}

#[tokio::test]
async fn a_create_retried_with_the_same_id_is_a_replay_and_a_different_one_a_conflict() {
    let w = World::default();
    w.publisher.fail_next(1);
    assert!(matches!(w.create("wf-1", "grants").await, Err(AuditError::NotAnnounced { .. })));
    let again = w.create("wf-1", "grants").await.unwrap();
    assert!(again.replayed);
    let other = w.create("wf-1", "loans").await.unwrap_err();
    assert!(matches!(other, AuditError::Conflict(_)), "{other:?}");
    assert_eq!(w.events().len(), 1);
}

#[tokio::test]
async fn a_record_waits_for_its_predecessor_so_the_chain_is_built_in_order() {
    let w = World::default();
    w.create("wf-1", "grants").await.unwrap();
    w.act(&alice(), "wf-1", "request", None).await.unwrap();
    let events = w.events();
    let err = append_record(&w.audit, &w.key, &events[1], t0()).await.unwrap_err();
    assert!(matches!(err, AuditError::PredecessorMissing { seq: 1, .. }));
    assert_eq!(err.class(), ErrorClass::Retryable);
    assert_eq!(append_record(&w.audit, &w.key, &events[0], t0()).await.unwrap(), Outcome::Done);
    assert_eq!(append_record(&w.audit, &w.key, &events[1], t0()).await.unwrap(), Outcome::Done);
    assert_eq!(
        append_record(&w.audit, &w.key, &events[1], t0() + Duration::hours(1)).await.unwrap(),
        Outcome::Duplicate
    );
    let records = w.audit.all();
    assert_eq!(records[1].prev_hash, records[0].hash);
}

#[tokio::test]
async fn a_different_event_under_a_stored_seq_is_refused_not_overwritten() {
    let w = World::default();
    w.create("wf-1", "grants").await.unwrap();
    let mut event = w.events().remove(0);
    append_record(&w.audit, &w.key, &event, t0()).await.unwrap();
    event.payload.actor = "mallory".into();
    let err = append_record(&w.audit, &w.key, &event, t0()).await.unwrap_err();
    assert!(matches!(err, AuditError::SeqConflict { .. }));
    assert_eq!(err.class(), ErrorClass::Permanent);
    assert_eq!(w.audit.all()[0].actor, "alice");
}

#[tokio::test]
async fn every_record_is_signed_and_kms_trouble_is_retried_without_a_record() {
    let w = World::default();
    w.create("wf-1", "grants").await.unwrap();
    let event = w.events().remove(0);
    w.key.fail_next(1);
    let err = append_record(&w.audit, &w.key, &event, t0()).await.unwrap_err();
    assert_eq!((err.class(), err.kind()), (ErrorClass::Retryable, "kms_unavailable"));
    assert!(w.audit.all().is_empty(), "nothing stored unsigned");
    append_record(&w.audit, &w.key, &event, t0()).await.unwrap();
    let record = &w.audit.all()[0];
    assert_eq!(record.signing_key, crate::signing::test_key::TEST_KEY_ARN);
    assert!(crate::signing::test_key::trusted()
        .problem(&record.hash, &record.signing_key, &record.signature)
        .is_none());
}

#[tokio::test]
async fn a_trail_missing_its_newest_record_does_not_verify() {
    let w = World::default();
    w.create("wf-1", "grants").await.unwrap();
    w.act(&alice(), "wf-1", "request", None).await.unwrap();
    let events = w.events();
    append_record(&w.audit, &w.key, &events[0], t0()).await.unwrap();
    let check = verify(&w.audit, &w.workflows, &w.key, &auditor(), Some("wf-1")).await.unwrap();
    assert_eq!((check.valid, check.records, check.expected_records, check.broken_at), (false, 1, 2, Some(2)));
    append_record(&w.audit, &w.key, &events[1], t0()).await.unwrap();
    assert!(verify(&w.audit, &w.workflows, &w.key, &auditor(), Some("wf-1")).await.unwrap().valid);
}

#[tokio::test]
async fn tampering_is_detected_by_the_chain_check() {
    let w = World::default();
    w.create("wf-1", "grants").await.unwrap();
    w.act(&alice(), "wf-1", "request", None).await.unwrap();
    w.act(&bob(), "wf-1", "reject", None).await.unwrap();
    w.deliver_all().await;
    w.audit.tamper("wf-1", 2, |r| r.comment = Some("never said this".into()));
    let check = verify(&w.audit, &w.workflows, &w.key, &auditor(), Some("wf-1")).await.unwrap();
    assert!(!check.valid);
    assert_eq!(check.broken_at, Some(2));
    assert!(matches!(
        verify(&w.audit, &w.workflows, &w.key, &alice(), Some("wf-1")).await,
        Err(AuditError::Refused(Refusal::Forbidden(_)))
    ));
    assert!(
        matches!(verify(&w.audit, &w.workflows, &w.key, &alice(), None).await, Err(AuditError::Refused(_))),
        "who before what"
    );
    assert!(matches!(verify(&w.audit, &w.workflows, &w.key, &auditor(), None).await, Err(AuditError::Invalid(_))));
}

#[tokio::test]
async fn searches_by_workflow_actor_and_scheme_page_through_exactly_the_right_records() {
    let w = World::default();
    for (id, scheme) in [("wf-a", "grants"), ("wf-b", "grants"), ("wf-c", "loans")] {
        w.create(id, scheme).await.unwrap();
        w.act(&alice(), id, "request", None).await.unwrap();
        w.act(&bob(), id, "approve", None).await.unwrap();
    }
    w.deliver_all().await;

    async fn all_pages(w: &World, params: SearchParams) -> Vec<(String, u64)> {
        let mut out = Vec::new();
        let mut params = params;
        params.limit = Some("2".into());
        loop {
            let (_, page) = search(&w.audit, &auditor(), &params).await.unwrap();
            assert!(page.items.len() <= 2);
            out.extend(page.items.iter().map(|r| (r.workflow_id.clone(), r.seq)));
            match page.next {
                Some(c) => params.next = Some(c.encode()),
                None => return out,
            }
        }
    }
    let by_wf = all_pages(&w, SearchParams { workflow_id: Some("wf-b".into()), ..Default::default() }).await;
    assert_eq!(by_wf, vec![("wf-b".into(), 1), ("wf-b".into(), 2), ("wf-b".into(), 3)]);
    let by_bob = all_pages(&w, SearchParams { actor: Some("bob".into()), ..Default::default() }).await;
    assert_eq!(by_bob, vec![("wf-a".into(), 3), ("wf-b".into(), 3), ("wf-c".into(), 3)]);
    let grants = all_pages(&w, SearchParams { scheme: Some("grants".into()), ..Default::default() }).await;
    assert_eq!(grants.len(), 6);
    // wf-a's three actions happened at t0+1..3 s, wf-b's at t0+4..6 s.
    let window = SearchParams {
        scheme: Some("grants".into()),
        from: Some("2024-06-01T12:00:03Z".into()),
        to: Some("2024-06-01T13:00:04+01:00".into()),
        ..Default::default()
    };
    assert_eq!(all_pages(&w, window).await, vec![("wf-a".into(), 3), ("wf-b".into(), 1)]);
}

#[tokio::test]
async fn searches_are_for_auditors_with_exactly_one_criterion_and_their_own_cursors() {
    let w = World::default();
    let p = SearchParams { actor: Some("bob".into()), ..Default::default() };
    assert!(matches!(search(&w.audit, &bob(), &p).await, Err(AuditError::Refused(Refusal::Forbidden(_)))));
    for bad in [
        SearchParams::default(),
        SearchParams { actor: Some("bob".into()), scheme: Some("grants".into()), ..Default::default() },
        SearchParams { actor: Some("bob".into()), from: Some("2024-01-01T00:00:00Z".into()), ..Default::default() },
        SearchParams {
            scheme: Some("g".into()),
            from: Some("2025-01-01T00:00:00Z".into()),
            to: Some("2024-01-01T00:00:00Z".into()),
            ..Default::default()
        },
        SearchParams { scheme: Some("g".into()), from: Some("last week".into()), ..Default::default() },
        SearchParams { actor: Some("bob".into()), limit: Some("0".into()), ..Default::default() },
        SearchParams { actor: Some("bob".into()), next: Some("garbage".into()), ..Default::default() },
    ] {
        let err = search(&w.audit, &auditor(), &bad).await.unwrap_err();
        assert!(matches!(err, AuditError::Invalid(_)), "{bad:?}: {err:?}");
    }
}

#[tokio::test]
async fn notifications_are_newest_first_with_an_unread_count_and_only_their_owners() {
    let w = World::default();
    w.create("wf-1", "grants").await.unwrap();
    w.act(&alice(), "wf-1", "request", None).await.unwrap();
    w.act(&bob(), "wf-1", "approve", None).await.unwrap();
    w.deliver_all().await;

    let listed = list_notifications(&w.notifications, &alice(), "alice", Some("2"), None).await.unwrap();
    assert_eq!(listed.unread, 3);
    assert_eq!(listed.page.items.iter().map(|n| n.seq).collect::<Vec<_>>(), vec![3, 2]);
    let cursor = listed.page.next.unwrap().encode();
    let rest = list_notifications(&w.notifications, &alice(), "alice", Some("2"), Some(&cursor)).await.unwrap();
    assert_eq!(rest.page.items.iter().map(|n| n.seq).collect::<Vec<_>>(), vec![1]);
    assert!(rest.page.next.is_none());

    let newest = listed.page.items[0].notification_id.clone();
    let read = mark_read(&w.notifications, &alice(), "alice", &newest, t0()).await.unwrap();
    assert!(read.read_at.is_some());
    let again = mark_read(&w.notifications, &alice(), "alice", &newest, t0() + Duration::hours(1)).await.unwrap();
    assert_eq!(again.read_at, read.read_at, "the first read time stays");
    assert_eq!(list_notifications(&w.notifications, &alice(), "alice", None, None).await.unwrap().unread, 2);

    // Bob can neither list Alice's nor mark hers through his own path.
    let forbidden = list_notifications(&w.notifications, &bob(), "alice", None, None).await.unwrap_err();
    assert!(matches!(forbidden, AuditError::Refused(Refusal::Forbidden(_))));
    assert!(matches!(mark_read(&w.notifications, &bob(), "alice", &newest, t0()).await, Err(AuditError::Refused(_))));
    assert!(matches!(mark_read(&w.notifications, &bob(), "bob", &newest, t0()).await, Err(AuditError::NotFound)));
}

#[tokio::test]
async fn a_failed_realtime_publish_is_retried_without_storing_twice() {
    let w = World::default();
    w.create("wf-1", "grants").await.unwrap();
    w.act(&alice(), "wf-1", "request", None).await.unwrap();
    let request = w.events().remove(1);
    w.channel.fail_next(2);
    // alice's publish fails; the retry stores nothing new and publishes alice's, then fails bob's.
    assert_eq!(
        notify(&w.notifications, &w.channel, PREFIX, &request, t0()).await.unwrap_err().class(),
        ErrorClass::Retryable
    );
    assert!(notify(&w.notifications, &w.channel, PREFIX, &request, t0()).await.is_err());
    assert_eq!(notify(&w.notifications, &w.channel, PREFIX, &request, t0()).await.unwrap(), Outcome::Done);
    assert_eq!(notify(&w.notifications, &w.channel, PREFIX, &request, t0()).await.unwrap(), Outcome::Duplicate);
    assert_eq!(w.notifications.all().len(), 3);
    let topics: Vec<String> = w.channel.published().into_iter().map(|(t, _)| t).collect();
    assert_eq!(topics, vec!["notifications-alice", "notifications-bob", "notifications-carol"]);
}

#[tokio::test]
async fn an_action_naming_a_wildcard_recipient_is_refused_for_good_and_publishes_nothing() {
    let w = World::default();
    w.create("wf-1", "grants").await.unwrap();
    w.act(&alice(), "wf-1", "request", None).await.unwrap();
    let mut request = w.events().remove(1);
    request.payload.approvers.push("+".into());
    let err = notify(&w.notifications, &w.channel, PREFIX, &request, t0()).await.unwrap_err();
    assert!(matches!(err, AuditError::Invalid(_)), "{err}");
    assert_eq!(err.class(), ErrorClass::Permanent);
    assert!(w.notifications.all().is_empty());
    assert!(w.channel.published().is_empty());
}
