//! The workflow's promises, use case by use case, over the in-memory ports.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use kit::batch::{Outcome, RecordContext};
use kit::testing::RecordingPublisher;
use kit::Classify;
use serde_json::json;

use super::*;
use crate::messages::{ApprovalDecided, ApprovalRequested};
use crate::rules::{BeginCheck, ExecutionOutcome};
use crate::state::{Decision, Status};
use crate::testing::{FakeDecisionQueue, FakeMailer, MemoryApprovalStore};
use crate::token::Token;
use crate::ApprovalError;

const BASE: &str = "https://api.example";
const APPROVERS: [&str; 3] = ["a@example.org", "b@example.org", "c@example.org"];
const DELAY: Duration = Duration::minutes(2);

fn t0() -> DateTime<Utc> {
    "2024-06-01T12:00:00Z".parse().unwrap()
}

fn ctx() -> RecordContext {
    RecordContext {
        step: Arc::from("test"),
        message_id: "m-1".into(),
        correlation_id: "c-1".into(),
        workflow_id: None,
        receive_count: 1,
        first_received_at: None,
        group_id: None,
        deadline: None,
    }
}

fn submission(id: &str, reveal: bool) -> crate::request::Submission {
    serde_json::from_value(json!({
        "request_id": id, "issue_id": "INC-7", "action": "restart-service",
        "action_parameters": {"service": "billing"},
        "approvers": APPROVERS, "expires_in_minutes": 30, "reveal_approver": reveal,
    }))
    .unwrap()
}

struct World {
    store: MemoryApprovalStore,
    publisher: RecordingPublisher,
    mailer: FakeMailer,
    queue: FakeDecisionQueue,
}

/// The token in the newest approval email to `to`.
fn token_in(mailer: &FakeMailer, to: &str) -> Token {
    let email = mailer.sent_to(to).into_iter().rev().find(|e| e.subject.starts_with("Approval needed")).unwrap();
    let start = email.text.find("token=").unwrap() + "token=".len();
    Token::parse(&email.text[start..start + crate::token::TOKEN_CHARS]).unwrap()
}

impl World {
    fn new() -> Self {
        Self {
            store: MemoryApprovalStore::default(),
            publisher: RecordingPublisher::default(),
            mailer: FakeMailer::default(),
            queue: FakeDecisionQueue::default(),
        }
    }

    /// A stored request whose approval emails went out.
    async fn requested(id: &str, reveal: bool) -> Self {
        let w = Self::new();
        create_request(&w.store, &w.publisher, submission(id, reveal), "c-1", t0(), DELAY).await.unwrap();
        w.emails(id).await.unwrap();
        w
    }

    async fn emails(&self, id: &str) -> Result<Outcome, ApprovalError> {
        let c = ctx();
        let event = ApprovalRequested { request_id: id.into() };
        send_approval_emails(&self.store, &self.mailer, BASE, event, EffectContext { record: &c, now: t0() }).await
    }

    fn token(&self, approver: usize) -> Token {
        token_in(&self.mailer, APPROVERS[approver])
    }

    fn link(&self, id: &str, approver: usize, decision: Decision) -> LinkRequest {
        LinkRequest { request_id: id.into(), token: self.token(approver), decision }
    }

    async fn decide(&self, link: &LinkRequest, at: DateTime<Utc>) -> DecideAnswer {
        decide(&self.store, &self.publisher, link, "c-2", at, DELAY).await.unwrap()
    }

    async fn enqueue(&self, id: &str) -> Result<Outcome, ApprovalError> {
        let event = ApprovalDecided { request_id: id.into(), decision: Decision::Approved };
        enqueue_decision(&self.store, &self.queue, event, "c-3", t0()).await
    }

    async fn notify(&self, id: &str) -> Result<Outcome, ApprovalError> {
        let c = ctx();
        let event = ApprovalDecided { request_id: id.into(), decision: Decision::Approved };
        notify_approvers(&self.store, &self.mailer, event, EffectContext { record: &c, now: t0() }).await
    }
}

// ---------------------------------------------------------------- creating

#[tokio::test]
async fn a_request_is_stored_pending_without_tokens_and_announced_once_per_call() {
    let w = World::new();
    let out = create_request(&w.store, &w.publisher, submission("r1", false), "c-1", t0(), DELAY).await.unwrap();
    assert!(out.created);
    let stored = w.store.request("r1").unwrap();
    assert_eq!(stored.status, Status::Pending);
    assert!(stored.approvers.iter().all(|a| a.token_hash.is_none()), "the email step mints tokens");
    assert_eq!(w.publisher.of_type("approval.requested").len(), 1);
    assert_eq!(w.publisher.of_type("approval.requested")[0]["id"], "approval.requested:r1");
    assert_eq!(w.store.outbox_due_of("r1"), Some(t0() + DELAY));
}

#[tokio::test]
async fn a_retry_answers_the_stored_request_and_a_reused_id_is_refused() {
    let w = World::new();
    create_request(&w.store, &w.publisher, submission("r1", false), "c-1", t0(), DELAY).await.unwrap();
    let again =
        create_request(&w.store, &w.publisher, submission("r1", false), "c-1", t0() + Duration::seconds(5), DELAY)
            .await
            .unwrap();
    assert!(!again.created);
    assert_eq!(again.request.created_at, t0());
    assert_eq!(w.publisher.of_type("approval.requested").len(), 2, "announced again: the first may have been lost");

    let mut other = submission("r1", false);
    other.action = "delete-everything".into();
    let err = create_request(&w.store, &w.publisher, other, "c-1", t0(), DELAY).await.unwrap_err();
    assert!(matches!(err, ApprovalError::RequestIdReused { .. }), "{err}");
}

#[tokio::test]
async fn an_invalid_request_is_refused_before_anything_is_stored() {
    let w = World::new();
    let mut bad = submission("r1", false);
    bad.approvers = vec!["nobody".into()];
    let err = create_request(&w.store, &w.publisher, bad, "c-1", t0(), DELAY).await.unwrap_err();
    assert_eq!(err.kind(), "invalid_request");
    assert!(w.store.request("r1").is_none());
    assert!(w.publisher.published().is_empty());
}

// ---------------------------------------------------------------- emails

#[tokio::test]
async fn each_approver_gets_one_email_whose_token_is_stored_only_as_its_hash() {
    let w = World::requested("r1", false).await;
    let stored = w.store.request("r1").unwrap();
    assert!(stored.emails_sent_at.is_some());
    assert_eq!(stored.outbox, None, "the announcement is confirmed");
    for (i, address) in APPROVERS.iter().enumerate() {
        assert_eq!(w.mailer.sent_to(address).len(), 1);
        let token = w.token(i);
        assert_eq!(stored.approvers[i].token_hash.as_deref(), Some(token.hash().to_hex().as_str()));
        assert!(!format!("{stored:?}").contains(&token.expose()), "the raw token is never stored");
    }
    assert_eq!(w.emails("r1").await.unwrap(), Outcome::Duplicate, "a redelivery sends nothing");
    assert_eq!(w.mailer.sent().len(), 3);
}

#[tokio::test]
async fn a_failed_send_is_retried_and_each_approver_ends_with_one_email_and_a_working_token() {
    let w = World::new();
    create_request(&w.store, &w.publisher, submission("r2", false), "c-1", t0(), DELAY).await.unwrap();
    w.mailer.fail_next(1);
    let err = w.emails("r2").await.unwrap_err();
    assert_eq!(err.kind(), "ses_unavailable");
    assert_eq!(err.dependency(), Some("ses"), "counted against SES for its outage alarm");
    assert!(w.mailer.sent().is_empty());
    let minted = w.store.request("r2").unwrap().approvers[0].token_hash.clone();
    assert!(minted.is_some(), "minted before the send");
    assert_eq!(w.emails("r2").await.unwrap(), Outcome::Done);
    assert_eq!(w.mailer.sent().len(), 3, "exactly one email each");
    let stored = w.store.request("r2").unwrap();
    assert_ne!(stored.approvers[0].token_hash, minted, "the unsent token was replaced");
    assert_eq!(stored.approvers[0].token_hash.as_deref(), Some(w.token(0).hash().to_hex().as_str()));
}

#[tokio::test]
async fn no_links_go_out_for_a_decided_or_expired_request() {
    let w = World::new();
    create_request(&w.store, &w.publisher, submission("r1", false), "c-1", t0(), DELAY).await.unwrap();
    w.store.edit("r1", |r| r.expires_at = t0());
    assert_eq!(w.emails("r1").await.unwrap(), Outcome::Duplicate);
    assert!(w.mailer.sent().is_empty());
}

/// What `GET /approval-requests/{id}` would answer now.
fn view(w: &World, id: &str, at: DateTime<Utc>) -> serde_json::Value {
    serde_json::to_value(crate::view::RequestView::of(&w.store.request(id).unwrap(), at)).unwrap()
}

#[tokio::test]
async fn a_refused_address_does_not_stop_the_others_and_is_counted_undeliverable() {
    let w = World::new();
    create_request(&w.store, &w.publisher, submission("r1", false), "c-1", t0(), DELAY).await.unwrap();
    w.mailer.refuse(APPROVERS[1]);
    assert_eq!(w.emails("r1").await.unwrap(), Outcome::Done, "a refused address is no failure of the record");
    assert_eq!(w.mailer.sent_to(APPROVERS[0]).len(), 1);
    assert_eq!(w.mailer.sent_to(APPROVERS[1]).len(), 0);
    assert_eq!(w.mailer.sent_to(APPROVERS[2]).len(), 1, "the approver after the refused one is emailed");
    let v = view(&w, "r1", t0());
    assert_eq!(v["status"], "PENDING", "the others can still decide");
    assert_eq!(v["approvers"]["emailed"], 2);
    assert_eq!(v["approvers"]["undeliverable"], 1);
    assert!(!v.to_string().contains(APPROVERS[1]), "the view names nobody: {v}");

    // Redelivered, and swept long after: nobody is emailed or tried again.
    assert_eq!(w.emails("r1").await.unwrap(), Outcome::Duplicate);
    let swept = sweep(&w.store, &w.publisher, t0() + DELAY * 10, DELAY, 10).await.unwrap();
    assert_eq!(swept.republished, 0, "{swept:?}");
    assert_eq!(w.mailer.attempts_to(APPROVERS[1]), 1, "a refused address is tried once");
    assert_eq!(w.mailer.sent().len(), 2);

    // The two who got their links decide as usual.
    let answer = w.decide(&w.link("r1", 2, Decision::Approved), t0()).await;
    assert!(matches!(answer, DecideAnswer::Decided { .. }), "{answer:?}");
}

#[tokio::test]
async fn after_a_refusal_an_outage_retries_only_the_approvers_not_yet_done() {
    let w = World::new();
    create_request(&w.store, &w.publisher, submission("r1", false), "c-1", t0(), DELAY).await.unwrap();
    w.mailer.refuse(APPROVERS[0]);
    w.mailer.fail_next(1); // SES throttles the send after the refusal
    let err = w.emails("r1").await.unwrap_err();
    assert_eq!(err.kind(), "ses_unavailable");
    assert_eq!(err.class(), kit::ErrorClass::Retryable, "the record is retried");
    assert_eq!(view(&w, "r1", t0())["approvers"]["undeliverable"], 1, "the refusal is kept");

    assert_eq!(w.emails("r1").await.unwrap(), Outcome::Done);
    assert_eq!(w.mailer.attempts_to(APPROVERS[0]), 1, "the refused address is not tried again");
    assert_eq!(w.mailer.sent_to(APPROVERS[1]).len(), 1);
    assert_eq!(w.mailer.sent_to(APPROVERS[2]).len(), 1);
    let v = view(&w, "r1", t0());
    assert_eq!((v["approvers"]["emailed"].clone(), v["approvers"]["undeliverable"].clone()), (json!(2), json!(1)));
}

#[tokio::test]
async fn when_every_address_is_refused_the_request_ends_undeliverable_and_is_swept_no_more() {
    let w = World::new();
    create_request(&w.store, &w.publisher, submission("r1", false), "c-1", t0(), DELAY).await.unwrap();
    for a in APPROVERS {
        w.mailer.refuse(a);
    }
    assert_eq!(w.emails("r1").await.unwrap(), Outcome::Done, "nothing to retry: no dead letter either");
    let v = view(&w, "r1", t0());
    assert_eq!(v["status"], "UNDELIVERABLE");
    assert_eq!(v["approvers"]["undeliverable"], 3);
    assert_eq!(v["approvers"]["emailed"], 0);
    let after_expiry = w.store.request("r1").unwrap().expires_at + Duration::minutes(1);
    assert_eq!(view(&w, "r1", after_expiry)["status"], "UNDELIVERABLE", "final: it does not turn EXPIRED");

    // The sweep has nothing to re-publish, now or ever; a redelivery sends nothing.
    let announced = w.publisher.of_type("approval.requested").len();
    for later in [DELAY, DELAY * 10, Duration::days(7)] {
        let swept = sweep(&w.store, &w.publisher, t0() + later, DELAY, 10).await.unwrap();
        assert_eq!(swept.republished, 0, "{swept:?}");
    }
    assert_eq!(w.publisher.of_type("approval.requested").len(), announced);
    assert_eq!(w.emails("r1").await.unwrap(), Outcome::Duplicate);
    assert!(APPROVERS.iter().all(|a| w.mailer.attempts_to(a) == 1));
    assert!(matches!(
        begin_execution(&w.store, "r1", "a1", t0()).await.unwrap(),
        BeginAnswer::Refused(BeginCheck::NotApproved(_))
    ));
}

// ---------------------------------------------------------------- links

#[tokio::test]
async fn opening_a_link_changes_nothing() {
    let w = World::requested("r1", false).await;
    let before = w.store.request("r1").unwrap();
    let answer = inspect_link(&w.store, &w.link("r1", 0, Decision::Approved), t0()).await.unwrap();
    assert!(matches!(answer, LinkAnswer::Confirm(_)));
    assert_eq!(w.store.request("r1").unwrap(), before);
}

#[tokio::test]
async fn the_first_decision_wins_revokes_the_others_and_is_announced() {
    let w = World::requested("r1", false).await;
    let at = t0() + Duration::minutes(1);
    let answer = w.decide(&w.link("r1", 1, Decision::Rejected), at).await;
    assert!(matches!(answer, DecideAnswer::Decided { decision: Decision::Rejected, .. }));
    let stored = w.store.request("r1").unwrap();
    assert_eq!(stored.status, Status::Rejected);
    assert_eq!(stored.decision.as_ref().unwrap().decided_by, 1);
    assert!(stored.approvers[1].used_at.is_some());
    assert!(stored.approvers[0].revoked_at.is_some() && stored.approvers[2].revoked_at.is_some());
    let decided = w.publisher.of_type("approval.decided");
    assert_eq!(decided.len(), 1);
    assert_eq!(decided[0]["payload"], json!({"request_id": "r1", "decision": "REJECTED"}));

    // Everyone after: 409, saying how and when, not who.
    for i in 0..3 {
        let later = w.decide(&w.link("r1", i, Decision::Approved), at + Duration::seconds(1)).await;
        assert_eq!(
            later,
            DecideAnswer::Refused(Refusal::Decided { decision: Decision::Rejected, decided_at: at, by: None })
        );
    }
    assert_eq!(w.store.request("r1").unwrap().status, Status::Rejected);
    assert_eq!(w.publisher.of_type("approval.decided").len(), 1);
}

#[tokio::test]
async fn who_decided_is_said_only_when_the_request_allows_it() {
    let w = World::requested("r1", true).await;
    w.decide(&w.link("r1", 2, Decision::Approved), t0()).await;
    let later = w.decide(&w.link("r1", 0, Decision::Approved), t0()).await;
    assert!(matches!(later, DecideAnswer::Refused(Refusal::Decided { by: Some(b), .. }) if b == APPROVERS[2]));
}

#[tokio::test]
async fn a_decision_that_loses_the_race_after_its_read_is_refused_by_the_write() {
    let w = World::requested("r1", false).await;
    // Between our read and our write, approver 2 decides.
    w.store.before_next_decide(|r| {
        r.status = Status::Approved;
        r.decision = Some(crate::state::DecisionRecord {
            decision: Decision::Approved,
            decided_at: "2024-06-01T12:00:30Z".parse().unwrap(),
            decided_by: 2,
        });
    });
    let answer = w.decide(&w.link("r1", 0, Decision::Rejected), t0() + Duration::minutes(1)).await;
    assert!(matches!(answer, DecideAnswer::Refused(Refusal::Decided { decision: Decision::Approved, .. })));
    assert_eq!(w.store.request("r1").unwrap().decision.unwrap().decided_by, 2);
    assert!(w.publisher.of_type("approval.decided").is_empty(), "the loser announces nothing");
}

#[tokio::test]
async fn an_expired_token_is_refused_while_the_item_still_exists() {
    let w = World::requested("r1", false).await;
    let expiry = w.store.request("r1").unwrap().expires_at;
    let answer = w.decide(&w.link("r1", 0, Decision::Approved), expiry).await;
    assert_eq!(answer, DecideAnswer::Refused(Refusal::Expired));
    assert!(w.store.request("r1").is_some());
    assert_eq!(w.store.request("r1").unwrap().status, Status::Pending);
}

#[tokio::test]
async fn foreign_unknown_and_missing_links_are_refused() {
    let w = World::requested("r1", false).await;
    // r2 has its own approvers and tokens.
    create_request(&w.store, &w.publisher, submission("r2", false), "c-1", t0(), DELAY).await.unwrap();
    let r1_token = w.token(0);
    w.emails("r2").await.unwrap();
    let foreign = LinkRequest { request_id: "r2".into(), token: r1_token, decision: Decision::Approved };
    assert_eq!(w.decide(&foreign, t0()).await, DecideAnswer::Refused(Refusal::UnknownToken));
    let made_up =
        LinkRequest { request_id: "r1".into(), token: Token::generate().unwrap(), decision: Decision::Approved };
    assert_eq!(w.decide(&made_up, t0()).await, DecideAnswer::Refused(Refusal::UnknownToken));
    let missing = LinkRequest { request_id: "nope".into(), token: w.token(0), decision: Decision::Approved };
    assert_eq!(w.decide(&missing, t0()).await, DecideAnswer::Refused(Refusal::Gone));
    assert_eq!(w.store.request("r1").unwrap().status, Status::Pending);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn five_concurrent_approvers_make_exactly_one_decision_in_every_trial() {
    for trial in 0..200 {
        let id = format!("r{trial}");
        let w = Arc::new(World::requested(&id, false).await);
        let tasks: Vec<_> = APPROVERS
            .iter()
            .enumerate()
            .chain([(0, &APPROVERS[0]), (1, &APPROVERS[1])])
            .map(|(i, _)| {
                let w = w.clone();
                let link = w.link(&id, i, if i % 2 == 0 { Decision::Approved } else { Decision::Rejected });
                tokio::spawn(async move { w.decide(&link, t0()).await })
            })
            .collect();
        let mut won = 0;
        for t in tasks {
            match t.await.unwrap() {
                DecideAnswer::Decided { .. } => won += 1,
                DecideAnswer::Refused(Refusal::Decided { .. }) => {}
                other => panic!("trial {trial}: unexpected {other:?}"),
            }
        }
        assert_eq!(won, 1, "trial {trial}");
        assert_eq!(w.publisher.of_type("approval.decided").len(), 1, "trial {trial}");
    }
}

// ---------------------------------------------------------------- after the decision

#[tokio::test]
async fn the_decision_goes_to_the_fifo_queue_once_however_often_it_is_announced() {
    let w = World::requested("r1", false).await;
    w.decide(&w.link("r1", 0, Decision::Approved), t0()).await;
    w.queue.fail_next(1);
    let err = w.enqueue("r1").await.unwrap_err();
    assert_eq!(err.class(), kit::ErrorClass::Retryable, "a failed send is retried");
    assert_eq!(err.dependency(), None, "our own queue is no outside provider");
    assert_eq!(w.enqueue("r1").await.unwrap(), Outcome::Done);
    assert_eq!(w.enqueue("r1").await.unwrap(), Outcome::Duplicate);
    assert_eq!(w.queue.sends().len(), 1);
    let sent = &w.queue.sends()[0];
    assert_eq!(sent.id, "approval.decision:r1");
    assert_eq!(sent.payload.decision, Decision::Approved);
    let stored = w.store.request("r1").unwrap();
    assert!(stored.decision_enqueued_at.is_some());
    assert_eq!(stored.outbox, None);
}

#[tokio::test]
async fn a_message_naming_no_possible_request_is_refused_for_good_without_quoting_it() {
    let w = World::requested("r1", false).await;
    for bad in ["someone@example.org", "", "r1/../r2", &"x".repeat(65)] {
        for err in [w.emails(bad).await, w.enqueue(bad).await, w.notify(bad).await].map(Result::unwrap_err) {
            assert!(matches!(err, ApprovalError::Invalid(_)), "{bad:?}: {err}");
            assert_eq!(err.class(), kit::ErrorClass::Permanent);
            assert!(bad.len() < 2 || !err.to_string().contains(bad), "{err}");
        }
    }
    assert!(w.queue.sends().is_empty());
}

#[tokio::test]
async fn an_undecided_request_is_never_enqueued() {
    let w = World::requested("r1", false).await;
    let err = w.enqueue("r1").await.unwrap_err();
    assert!(matches!(err, ApprovalError::NotDecided { .. }));
    assert!(w.queue.sends().is_empty());
}

#[tokio::test]
async fn the_other_approvers_are_told_once_and_the_decider_not_at_all() {
    let w = World::requested("r1", false).await;
    w.decide(&w.link("r1", 1, Decision::Approved), t0()).await;
    assert_eq!(w.notify("r1").await.unwrap(), Outcome::Done);
    assert_eq!(w.notify("r1").await.unwrap(), Outcome::Duplicate);
    for (i, address) in APPROVERS.iter().enumerate() {
        let notices: Vec<_> =
            w.mailer.sent_to(address).into_iter().filter(|e| e.subject.starts_with("Approved")).collect();
        assert_eq!(notices.len(), usize::from(i != 1), "{address}");
    }
    assert!(w.store.request("r1").unwrap().approvers_notified_at.is_some());
}

#[tokio::test]
async fn a_notice_that_failed_half_way_sends_only_what_is_missing() {
    let w = World::requested("r1", false).await;
    w.decide(&w.link("r1", 0, Decision::Approved), t0()).await;
    let before = w.mailer.sent().len();
    // The first notice goes, the second fails.
    let store = &w.store;
    let c = ctx();
    let event = ApprovalDecided { request_id: "r1".into(), decision: Decision::Approved };
    struct SecondFails(FakeMailer, std::sync::atomic::AtomicU32);
    #[async_trait::async_trait]
    impl crate::ports::Mailer for SecondFails {
        async fn send(&self, e: &crate::ports::OutgoingEmail) -> Result<(), crate::ports::MailError> {
            if self.1.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 1 {
                return Err(crate::ports::MailError::Ses(kit::sdk::SdkFailure::retryable("injected")));
            }
            self.0.send(e).await
        }
    }
    let flaky = SecondFails(FakeMailer::default(), Default::default());
    assert!(notify_approvers(store, &flaky, event.clone(), EffectContext { record: &c, now: t0() }).await.is_err());
    assert_eq!(flaky.0.sent().len(), 1);
    assert_eq!(
        notify_approvers(store, &w.mailer, event, EffectContext { record: &c, now: t0() }).await.unwrap(),
        Outcome::Done
    );
    assert_eq!(w.mailer.sent().len() - before, 1, "only the approver not told yet");
}

#[tokio::test]
async fn a_notice_refused_for_one_approver_still_reaches_the_next_and_is_not_retried() {
    let w = World::requested("r1", false).await;
    w.decide(&w.link("r1", 0, Decision::Approved), t0()).await;
    // Approver 1's address is suppressed after its link went.
    w.mailer.refuse(APPROVERS[1]);
    let before = w.mailer.sent_to(APPROVERS[2]).len();
    let c = ctx();
    let event = ApprovalDecided { request_id: "r1".into(), decision: Decision::Approved };
    let notify = || notify_approvers(&w.store, &w.mailer, event.clone(), EffectContext { record: &c, now: t0() });
    assert_eq!(notify().await.unwrap(), Outcome::Done, "a refused address is no failure of the record");
    assert_eq!(w.mailer.sent_to(APPROVERS[2]).len() - before, 1, "the approver after the refused one is told");
    let attempts = w.mailer.attempts_to(APPROVERS[1]);
    assert_eq!(notify().await.unwrap(), Outcome::Duplicate, "a redelivery sends nothing");
    assert_eq!(w.mailer.attempts_to(APPROVERS[1]), attempts, "the refused address is not tried again");
}

// ---------------------------------------------------------------- execution

#[tokio::test]
async fn execution_is_begun_once_and_finished_by_the_same_attempt() {
    let w = World::requested("r1", false).await;
    assert!(matches!(
        begin_execution(&w.store, "r1", "a1", t0()).await.unwrap(),
        BeginAnswer::Refused(BeginCheck::NotApproved(Status::Pending))
    ));
    w.decide(&w.link("r1", 0, Decision::Approved), t0()).await;
    assert!(matches!(begin_execution(&w.store, "r1", "a1", t0()).await.unwrap(), BeginAnswer::Begun(_)));
    assert!(matches!(begin_execution(&w.store, "r1", "a1", t0()).await.unwrap(), BeginAnswer::Begun(_)), "a retry");
    assert!(matches!(
        begin_execution(&w.store, "r1", "a2", t0()).await.unwrap(),
        BeginAnswer::Refused(BeginCheck::Interrupted { attempt_id, .. }) if attempt_id == "a1"
    ));
    assert!(matches!(
        finish_execution(&w.store, "r1", "a2", ExecutionOutcome::Executed, "", t0()).await.unwrap(),
        FinishAnswer::Conflict(Status::Executing)
    ));
    let done = finish_execution(&w.store, "r1", "a1", ExecutionOutcome::Executed, "ok", t0()).await.unwrap();
    assert!(matches!(done, FinishAnswer::Finished(_)));
    let again = finish_execution(&w.store, "r1", "a1", ExecutionOutcome::Executed, "ok", t0()).await.unwrap();
    assert!(matches!(again, FinishAnswer::Finished(_)), "a repeated report is answered as done");
    let stored = w.store.request("r1").unwrap();
    assert_eq!(stored.status, Status::Executed);
    assert_eq!(stored.execution.unwrap().output.as_deref(), Some("ok"));
    assert!(matches!(
        begin_execution(&w.store, "r1", "a3", t0()).await.unwrap(),
        BeginAnswer::Refused(BeginCheck::Finished(Status::Executed))
    ));
}

#[tokio::test]
async fn a_rejection_is_recorded_not_executed() {
    let w = World::requested("r1", false).await;
    w.decide(&w.link("r1", 0, Decision::Rejected), t0()).await;
    assert!(matches!(
        begin_execution(&w.store, "r1", "a1", t0()).await.unwrap(),
        BeginAnswer::Refused(BeginCheck::NotApproved(Status::Rejected))
    ));
    assert_eq!(record_rejection(&w.store, "r1", t0()).await.unwrap(), RejectionAnswer::Recorded);
    assert_eq!(record_rejection(&w.store, "r1", t0()).await.unwrap(), RejectionAnswer::Recorded);
    let stored = w.store.request("r1").unwrap();
    assert_eq!(stored.status, Status::Rejected);
    assert_eq!(stored.history.iter().filter(|h| h.event == "rejection_recorded").count(), 1);
}

// ---------------------------------------------------------------- the sweep

#[tokio::test]
async fn a_lost_announcement_is_re_published_by_the_sweep_until_confirmed() {
    let w = World::requested("r1", false).await;
    w.publisher.fail_next(1);
    let answer = w.decide(&w.link("r1", 0, Decision::Approved), t0()).await;
    assert!(matches!(answer, DecideAnswer::Decided { .. }), "the decision stands even if the publish failed");
    assert!(w.publisher.of_type("approval.decided").is_empty());

    let early = sweep(&w.store, &w.publisher, t0() + Duration::seconds(30), DELAY, 10).await.unwrap();
    assert_eq!(early, SweepReport::default(), "not due yet");
    let due = sweep(&w.store, &w.publisher, t0() + DELAY, DELAY, 10).await.unwrap();
    assert_eq!(due.republished, 1);
    let decided = w.publisher.of_type("approval.decided");
    assert_eq!(decided.len(), 1);
    assert_eq!(decided[0]["id"], "approval.decided:r1");

    assert_eq!(w.enqueue("r1").await.unwrap(), Outcome::Done);
    let after = sweep(&w.store, &w.publisher, t0() + DELAY * 10, DELAY, 10).await.unwrap();
    assert_eq!(after, SweepReport::default(), "confirmed: nothing left to sweep");
    assert_eq!(w.queue.delivered().len(), 1);
}

#[tokio::test]
async fn a_due_decision_is_repaired_in_the_first_sweep_however_many_requests_are_due() {
    let w = World::requested("decided", false).await;
    // Over a sweep's worth of requests whose emails wait (SES is down): each due
    // before the decision below.
    for i in 0..101 {
        create_request(&w.store, &w.publisher, submission(&format!("waiting-{i:03}"), false), "c-1", t0(), DELAY)
            .await
            .unwrap();
    }
    w.publisher.fail_next(1);
    let at = t0() + Duration::minutes(1);
    assert!(matches!(w.decide(&w.link("decided", 0, Decision::Approved), at).await, DecideAnswer::Decided { .. }));
    assert!(w.publisher.of_type("approval.decided").is_empty(), "the announcement was lost");

    let report = sweep(&w.store, &w.publisher, at + DELAY, DELAY, 100).await.unwrap();
    assert_eq!(report.republished, 100, "{report:?}");
    assert_eq!(w.publisher.of_type("approval.decided").len(), 1, "the decision went first");
}
