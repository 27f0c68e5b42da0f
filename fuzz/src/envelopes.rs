//! Well-formed envelopes whose fields are then damaged one by one: the decoders
//! get past the envelope (which random JSON almost never does) and meet wrong
//! types, versions and payloads. Refused permanently, never quoting the input.

use serde_json::{json, Map, Value};

use proptest::prelude::*;

use crate::bodies::{decode_all, FIELDS};
use crate::support::{json_tree, text, EMAIL_PART};

/// What may happen to one field of a valid message.
#[derive(Debug, Clone)]
enum Damage {
    Keep,
    Drop,
    Text(String),
    Replace(Value),
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        12 => Just(Damage::Keep),
        1 => Just(Damage::Drop),
        3 => text().prop_map(Damage::Text),
        1 => json_tree(FIELDS).prop_map(Damage::Replace),
    ]
}

/// `valid` with each field kept, dropped, or replaced by text or any JSON.
fn damaged(valid: Value) -> impl Strategy<Value = Value> {
    let fields: Map<String, Value> = valid.as_object().cloned().unwrap_or_default();
    prop::collection::vec(damage(), fields.len()).prop_map(move |damages| {
        let mut out = Map::new();
        for ((key, value), d) in fields.iter().zip(damages) {
            match d {
                Damage::Keep => {
                    out.insert(key.clone(), value.clone());
                }
                Damage::Drop => {}
                Damage::Text(t) => {
                    out.insert(key.clone(), Value::String(t));
                }
                Damage::Replace(v) => {
                    out.insert(key.clone(), v);
                }
            }
        }
        Value::Object(out)
    })
}

/// A valid payload of every message type a queue carries.
fn payloads() -> Vec<(&'static str, Value)> {
    vec![
        (
            "report.requested",
            json!({"report_id": "8d0c7a4e-3b1f-4f5e-9a61-0c2b8e7d9f10", "user_id": "u1", "email": "a@b.co", "event_ids": ["e1"], "reported_at": "2024-06-01T12:00:00Z"}),
        ),
        (
            "report.ticket-created",
            json!({"report_id": "8d0c7a4e-3b1f-4f5e-9a61-0c2b8e7d9f10", "user_id": "u1", "email": "a@b.co", "event_ids": ["e1"], "reported_at": "2024-06-01T12:00:00Z", "ticket_id": 7}),
        ),
        ("approval.requested", json!({"request_id": "req-1"})),
        ("approval.decided", json!({"request_id": "req-1", "decision": "APPROVED"})),
        (
            "approval.decision",
            json!({"request_id": "req-1", "decision": "REJECTED", "decided_at": "2024-06-01T12:00:00Z"}),
        ),
        ("contact.poll", json!({"contact_id": "1c0ffee0-0003-4003-8003-000000000001"})),
        ("contact.check-recording", json!({"contact_id": "1c0ffee0-0003-4003-8003-000000000001"})),
        (
            "workflow.action",
            json!({
                "workflow_id": "wf-1", "seq": 2, "scheme": "grants", "title": "t", "owner": "alice",
                "approvers": ["bob"], "action": "request", "actor": "alice", "actor_roles": ["requester"],
                "from_state": "DRAFT", "to_state": "REQUESTED", "step_id": "request", "at": "2024-06-01T12:00:00Z",
                "comment": "c", "data": {"k": 1},
            }),
        ),
    ]
}

fn envelope() -> impl Strategy<Value = Value> {
    prop::sample::select(payloads()).prop_flat_map(|(kind, payload)| {
        let valid = json!({
            "type": kind, "version": 1, "id": "m-1", "workflow_id": "wf-1", "correlation_id": "c-1",
            "occurred_at": "2024-06-01T12:00:00Z", "payload": payload.clone(),
        });
        (damaged(valid), damaged(payload), any::<bool>()).prop_map(|(mut env, payload, inner)| {
            // Half the time the envelope is kept whole but its payload damaged.
            if inner {
                if let Some(obj) = env.as_object_mut() {
                    obj.insert("payload".into(), payload);
                }
            }
            env
        })
    })
}

proptest! {
    #[test]
    fn damaged_envelopes_are_refused_without_quoting_them(env in envelope()) {
        for reason in decode_all(&env.to_string()) {
            prop_assert!(!reason.contains(EMAIL_PART), "reason quotes the input: {reason}");
        }
    }
}
