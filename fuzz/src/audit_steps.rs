//! The audit workflow's queue steps (create-audit-record, send-notification) on
//! any `workflow.action` their decoder lets through: handled or refused
//! permanently, never quoting an address; and a notification is published only to
//! a topic of a user id the API could have issued (no MQTT wildcard or separator
//! from a message picks the topic).

use audit::testing::{MemoryAudit, MemoryNotifications, RecordingChannel, TestSigningKey};
use audit::usecases::{append_record, notify};
use audit::workflow::{ActionKind, WorkflowState};
use audit::{AuditError, Role, UserId, WorkflowAction};
use kit::decode::{Decode, EnvelopeBody};
use kit::{Classify, Envelope, ErrorClass};
use proptest::prelude::*;

use crate::support::{block_on, json_tree, now, sqs_message, text, EMAIL_PART};

const PREFIX: &str = "notifications-";

fn action_kind() -> impl Strategy<Value = ActionKind> {
    prop::sample::select(vec![ActionKind::Save, ActionKind::Request, ActionKind::Approve, ActionKind::Reject])
}

fn state() -> impl Strategy<Value = WorkflowState> {
    prop::sample::select(vec![
        WorkflowState::Draft,
        WorkflowState::Requested,
        WorkflowState::Approved,
        WorkflowState::Rejected,
    ])
}

fn user() -> impl Strategy<Value = String> {
    prop_oneof![2 => prop::sample::select(vec!["alice", "bob", "carol"]).prop_map(str::to_owned), 3 => text()]
}

prop_compose! {
    fn workflow_action()(
        workflow_id in prop_oneof![2 => Just("wf-1".to_owned()), 3 => text()],
        seq in prop_oneof![Just(0u64), Just(1u64), Just(2u64), any::<u64>()],
        scheme in text(),
        title in proptest::option::of(text()),
        owner in user(),
        approvers in prop::collection::vec(user(), 0..4),
        action in action_kind(),
        actor in user(),
        actor_roles in prop::collection::vec(prop::sample::select(vec![Role::Requester, Role::Approver, Role::Auditor]), 0..3),
        from_state in proptest::option::of(state()),
        to_state in state(),
        step_id in text(),
        at_offset in -1_000_000_000i64..1_000_000_000,
        comment in proptest::option::of(text()),
        data in proptest::option::of(json_tree(&["k", "email", "data"])),
        envelope_workflow_id in prop_oneof![Just(None), Just(Some("wf-1".to_owned())), text().prop_map(Some)],
    ) -> Envelope<WorkflowAction> {
        let at = now() + chrono::Duration::seconds(at_offset);
        let payload = WorkflowAction {
            workflow_id: workflow_id.clone(), seq, scheme, title, owner, approvers, action, actor, actor_roles,
            from_state, to_state, step_id, at, comment, data,
        };
        // The envelope's workflow id is the payload's unless the case says otherwise.
        Envelope::new(envelope_workflow_id.unwrap_or(workflow_id), "c-1", payload)
    }
}

fn delivered(event: &Envelope<WorkflowAction>) -> Envelope<WorkflowAction> {
    let body = serde_json::to_string(event).unwrap();
    EnvelopeBody::<WorkflowAction>::default().decode(&sqs_message(&body)).unwrap().input
}

fn settled(step: &str, e: &AuditError) -> Result<(), TestCaseError> {
    let reason = kit::error::chain(e);
    // Record n waits for record n-1 (retried until it is stored, or dead-lettered
    // by the redrive policy): the one failure that may heal.
    let waits = matches!(e, AuditError::PredecessorMissing { .. });
    prop_assert!(
        waits || e.class() == ErrorClass::Permanent,
        "{} retries a message that cannot heal: {}",
        step,
        reason
    );
    prop_assert!(!reason.contains(EMAIL_PART), "{} quotes an address: {}", step, reason);
    Ok(())
}

proptest! {
    #[test]
    fn create_audit_record_appends_or_refuses_any_action(event in workflow_action()) {
        let event = delivered(&event);
        if let Err(e) = block_on(append_record(&MemoryAudit::default(), &TestSigningKey::default(), &event, now())) {
            settled("create-audit-record", &e)?;
        }
    }

    #[test]
    fn send_notification_publishes_only_to_real_users_topics(event in workflow_action()) {
        let event = delivered(&event);
        let (store, channel) = (MemoryNotifications::default(), RecordingChannel::default());
        if let Err(e) = block_on(notify(&store, &channel, PREFIX, &event, now())) {
            settled("send-notification", &e)?;
        }
        for (topic, _) in channel.published() {
            let user = topic.strip_prefix(PREFIX).unwrap_or_default();
            let valid = UserId::parse(user).is_ok_and(|u| u.as_str() == user);
            prop_assert!(valid, "published to {:?}, not a user's topic", topic);
        }
    }
}
