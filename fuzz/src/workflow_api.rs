//! workflow-api's outside input: the create and action bodies, the workflow and
//! notification ids in its paths, and the audit and notification query strings.
//! Every refusal is one the API answers with a 4xx (bad request, forbidden, not
//! found, conflict), never a 5xx, and never quotes an address it was sent.

use audit::request::{json_body, ActionBody, NewWorkflowBody};
use audit::testing::{MemoryAudit, MemoryNotifications, MemoryWorkflows, RecordingChannel, TestSigningKey};
use audit::usecases::{
    act, append_record, create_workflow, list_notifications, mark_read, notify, search, verify, view, RequestContext,
    SearchParams,
};
use audit::{AuditError, Caller, Role, Roles, UserId, WorkflowAction};
use kit::testing::RecordingPublisher;
use kit::Envelope;
use proptest::prelude::*;
use serde_json::json;

use crate::query_strings::{query_string, read};
use crate::support::{block_on, body_bytes, json_tree, now, text, EMAIL, EMAIL_PART};

const NEW_WORKFLOW: &[&str] = &["workflow_id", "scheme", "title", "approvers", "data", "comment"];
const ACTION: &[&str] = &["action", "data", "comment"];

/// The answer is one the API gives as a 4xx, and quotes no address.
fn client_error(e: &AuditError) -> Result<(), TestCaseError> {
    let text = e.to_string();
    let four_xx =
        matches!(e, AuditError::Invalid(_) | AuditError::Refused(_) | AuditError::NotFound | AuditError::Conflict(_));
    prop_assert!(four_xx, "answered with a 5xx: {}", text);
    prop_assert!(!text.contains(EMAIL_PART), "quotes an address: {}", text);
    Ok(())
}

fn roles() -> impl Strategy<Value = Roles> {
    prop::collection::vec(prop::sample::select(vec![Role::Requester, Role::Approver, Role::Auditor]), 0..3)
        .prop_map(|r| Roles::of(&r))
}

fn caller() -> impl Strategy<Value = Caller> {
    let user = prop::sample::select(vec!["alice", "bob", "carol", "mallory", EMAIL]);
    (user, roles()).prop_map(|(u, roles)| Caller { user: UserId::parse(u).unwrap(), roles })
}

fn ctx() -> RequestContext {
    RequestContext { now: now(), correlation_id: "c-1".into() }
}

/// Bob and Carol approve Alice's `wf-1`; its first action is recorded and notified.
struct World {
    workflows: MemoryWorkflows,
    publisher: RecordingPublisher,
    audit: MemoryAudit,
    notifications: MemoryNotifications,
}

fn world() -> World {
    let w = World {
        workflows: MemoryWorkflows::default(),
        publisher: RecordingPublisher::default(),
        audit: MemoryAudit::default(),
        notifications: MemoryNotifications::default(),
    };
    let alice = Caller { user: UserId::parse("alice").unwrap(), roles: Roles::of(&[Role::Requester]) };
    let body: NewWorkflowBody =
        serde_json::from_value(json!({"workflow_id": "wf-1", "scheme": "grants", "approvers": ["bob", "carol"]}))
            .unwrap();
    block_on(create_workflow(&w.workflows, &w.publisher, &alice, body, &ctx())).unwrap();
    let event: Envelope<WorkflowAction> = serde_json::from_value(w.publisher.published()[0].clone()).unwrap();
    block_on(append_record(&w.audit, &TestSigningKey::default(), &event, now())).unwrap();
    block_on(notify(&w.notifications, &RecordingChannel::default(), "n-", &event, now())).unwrap();
    w
}

/// A create body past the JSON shape: every field any value of its type.
fn typed_new_workflow() -> impl Strategy<Value = Vec<u8>> {
    (
        proptest::option::of(prop_oneof![Just("wf-2".to_owned()), text()]),
        prop_oneof![Just("grants".to_owned()), text()],
        proptest::option::of(text()),
        prop::collection::vec(prop_oneof![Just("bob".to_owned()), Just(EMAIL.to_owned()), text()], 0..12),
        proptest::option::of(json_tree(&["k", "email"])),
        proptest::option::of(text()),
    )
        .prop_map(|(workflow_id, scheme, title, approvers, data, comment)| {
            json!({"workflow_id": workflow_id, "scheme": scheme, "title": title, "approvers": approvers, "data": data, "comment": comment})
                .to_string()
                .into_bytes()
        })
}

fn typed_action() -> impl Strategy<Value = Vec<u8>> {
    (
        prop_oneof![
            prop::sample::select(vec!["save", "request", "approve", "reject", " Approve "]).prop_map(str::to_owned),
            text()
        ],
        proptest::option::of(json_tree(&["k", "email"])),
        proptest::option::of(text()),
    )
        .prop_map(|(action, data, comment)| {
            json!({"action": action, "data": data, "comment": comment}).to_string().into_bytes()
        })
}

fn workflow_id() -> impl Strategy<Value = String> {
    prop_oneof![3 => Just("wf-1".to_owned()), 1 => text()]
}

proptest! {
    #[test]
    fn any_create_body_is_stored_or_refused_with_a_4xx(
        caller in caller(),
        body in prop_oneof![body_bytes(NEW_WORKFLOW), typed_new_workflow()],
    ) {
        let w = world();
        let body: NewWorkflowBody = match json_body(&body) {
            Ok(b) => b,
            Err(e) => return client_error(&e.into()),
        };
        let retry = body.clone();
        match block_on(create_workflow(&w.workflows, &w.publisher, &caller, body, &ctx())) {
            Ok(done) if retry.workflow_id.is_some() => {
                // A client retrying the same create gets the same workflow back.
                let again = block_on(create_workflow(&w.workflows, &w.publisher, &caller, retry, &ctx()));
                prop_assert!(again.as_ref().is_ok_and(|a| a.replayed && a.workflow == done.workflow), "{:?}", again.err());
            }
            Ok(_) => {}
            Err(e) => client_error(&e)?,
        }
    }

    #[test]
    fn any_actions_are_accepted_or_refused_with_a_4xx(
        steps in prop::collection::vec((caller(), workflow_id(), prop_oneof![body_bytes(ACTION), typed_action()]), 1..6),
    ) {
        let w = world();
        let mut accepted = 0;
        for (caller, id, body) in steps {
            let body = json_body::<ActionBody>(&body);
            match block_on(act(&w.workflows, &w.publisher, &caller, &id, body, &ctx())) {
                Ok(done) => accepted += u64::from(!done.replayed),
                Err(e) => client_error(&e)?,
            }
            if let Err(e) = block_on(view(&w.workflows, &w.publisher, &caller, &id)) {
                client_error(&e)?;
            }
        }
        // One seq per accepted action, whatever was refused in between.
        prop_assert_eq!(w.workflows.workflow("wf-1").map(|wf| wf.seq), Some(1 + accepted));
    }

    #[test]
    fn any_audit_query_is_answered_or_refused_with_a_4xx(
        caller in caller(),
        query in query_string(&["workflow_id", "actor", "scheme", "from", "to", "limit", "next"], text()),
        verify_id in proptest::option::of(workflow_id()),
    ) {
        let w = world();
        if let Some(params) = read::<SearchParams>("/audit", &query)? {
            if let Err(e) = block_on(search(&w.audit, &caller, &params)) {
                client_error(&e)?;
            }
        }
        if let Err(e) = block_on(verify(&w.audit, &w.workflows, &TestSigningKey::default(), &caller, verify_id.as_deref())) {
            client_error(&e)?;
        }
    }

    #[test]
    fn any_notification_request_is_answered_or_refused_with_a_4xx(
        caller in caller(),
        user_id in prop_oneof![Just("alice".to_owned()), text()],
        limit in proptest::option::of(text()),
        next in proptest::option::of(text()),
        notification_id in text(),
    ) {
        let w = world();
        if let Err(e) = block_on(list_notifications(&w.notifications, &caller, &user_id, limit.as_deref(), next.as_deref())) {
            client_error(&e)?;
        }
        if let Err(e) = block_on(mark_read(&w.notifications, &caller, &user_id, &notification_id, now())) {
            client_error(&e)?;
        }
    }
}
