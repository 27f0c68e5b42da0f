//! The approval workflow's queue steps (send-approval-emails, enqueue-decision,
//! notify-approvers) on any payload their decoder lets through: the message is
//! handled or refused permanently (a bad id does not heal on retry), and no reason
//! quotes an address, whether sent in the message or stored in the request.

use approvals::testing::{FakeDecisionQueue, FakeMailer, MemoryApprovalStore};
use approvals::usecases::{create_request, enqueue_decision, notify_approvers, send_approval_emails, EffectContext};
use approvals::{ApprovalDecided, ApprovalError, ApprovalRequested, Decision};
use kit::decode::{Decode, EnvelopeBody};
use kit::testing::RecordingPublisher;
use kit::{Classify, Envelope, ErrorClass, Message};
use proptest::prelude::*;

use crate::support::{block_on, now, record_context, sqs_message, text, EMAIL, EMAIL_PART};

/// A store holding `req-1` (pending, emails not sent) and `req-2` (approved).
fn store() -> MemoryApprovalStore {
    let store = MemoryApprovalStore::default();
    for id in ["req-1", "req-2"] {
        let submission = serde_json::from_value(serde_json::json!({
            "request_id": id, "issue_id": "INC-1", "action": "restart",
            "approvers": [EMAIL, "other@example.org"], "expires_in_minutes": 60,
        }))
        .unwrap();
        let publisher = RecordingPublisher::default();
        block_on(create_request(&store, &publisher, submission, "c", now(), chrono::Duration::seconds(30))).unwrap();
    }
    store.edit("req-2", |r| {
        r.status = approvals::Status::Approved;
        r.decision =
            Some(approvals::state::DecisionRecord { decision: Decision::Approved, decided_at: now(), decided_by: 1 });
    });
    store
}

/// The payload as the function receives it: encoded, delivered, decoded.
fn delivered<M: Message + Clone>(payload: M) -> M {
    let body = serde_json::to_string(&Envelope::new("wf", "c-1", payload)).unwrap();
    EnvelopeBody::<M>::default().decode(&sqs_message(&body)).unwrap().input.payload
}

fn settled(step: &str, result: Result<kit::batch::Outcome, ApprovalError>) -> Result<(), TestCaseError> {
    if let Err(e) = result {
        let reason = kit::error::chain(&e);
        prop_assert_eq!(e.class(), ErrorClass::Permanent, "{} retries a message that cannot heal: {}", step, reason);
        prop_assert!(!reason.contains(EMAIL_PART), "{} quotes an address: {}", step, reason);
    }
    Ok(())
}

fn request_id() -> impl Strategy<Value = String> {
    prop_oneof![1 => Just("req-1".to_owned()), 1 => Just("req-2".to_owned()), 4 => text()]
}

fn decision() -> impl Strategy<Value = Decision> {
    prop_oneof![Just(Decision::Approved), Just(Decision::Rejected)]
}

proptest! {
    #[test]
    fn send_approval_emails_handles_or_refuses_any_request(request_id in request_id()) {
        let store = store();
        let mailer = FakeMailer::default();
        let event = delivered(ApprovalRequested { request_id });
        let record = record_context();
        let ctx = EffectContext { record: &record, now: now() };
        let result = block_on(send_approval_emails(&store, &mailer, "https://approvals.example/a", event, ctx));
        settled("send-approval-emails", result)?;
    }

    #[test]
    fn enqueue_decision_handles_or_refuses_any_decision(request_id in request_id(), decision in decision()) {
        let store = store();
        let queue = FakeDecisionQueue::default();
        let event = delivered(ApprovalDecided { request_id, decision });
        settled("enqueue-decision", block_on(enqueue_decision(&store, &queue, event, "c-1", now())))?;
    }

    #[test]
    fn notify_approvers_handles_or_refuses_any_decision(request_id in request_id(), decision in decision()) {
        let store = store();
        let mailer = FakeMailer::default();
        let event = delivered(ApprovalDecided { request_id, decision });
        let record = record_context();
        let ctx = EffectContext { record: &record, now: now() };
        settled("notify-approvers", block_on(notify_approvers(&store, &mailer, event, ctx)))?;
    }
}
