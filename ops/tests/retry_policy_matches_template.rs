//! The template's queues follow the step kit's retry policy: every step queue's
//! `maxReceiveCount` and `MessageRetentionPeriod`, and every step's
//! `MAX_RECEIVE_COUNT`, come from the `RetryPolicy` mapping, whose numbers are
//! the ones `kit::retry` derives. Change the policy in the kit; this test names
//! the numbers to write.

use std::path::PathBuf;

use kit::retry::{RetryPolicy, STANDARD};
use local_stack::template::{types, Template};
use serde_json::{json, Value};

const POLICIES: [RetryPolicy; 1] = [STANDARD];
/// Holds decisions for the on-prem processor, which may be offline for days:
/// its retention is set by that absence (14 days), at least the policy's.
const LONG_RETENTION_QUEUES: [&str; 1] = ["ApprovalDecisionsQueue"];

fn template() -> Template {
    let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    Template::load(&root.join("infra/template.yaml")).expect("template parses")
}

fn find_in_map(field: &str) -> Value {
    json!({"Fn::FindInMap": ["RetryPolicy", "Standard", field]})
}

#[test]
fn the_retry_policy_mapping_holds_the_kits_numbers() {
    let t = template();
    for policy in POLICIES {
        let entry = &t.mappings["RetryPolicy"][policy.name];
        let expected = json!({
            "MaxReceiveCount": policy.max_receive_count(),
            "MessageRetentionPeriod": policy.retention().as_secs(),
        });
        assert_eq!(entry, &expected, "write these in infra/template.yaml's RetryPolicy.{}", policy.name);
    }
}

#[test]
fn every_step_queue_takes_its_redrive_count_and_retention_from_the_policy() {
    let t = template();
    let mut checked = 0;
    for q in t.resources_of(types::SQS_QUEUE) {
        let Some(redrive) = q.properties.get("RedrivePolicy") else { continue };
        checked += 1;
        assert_eq!(redrive["maxReceiveCount"], find_in_map("MaxReceiveCount"), "{}", q.logical_id);
        let retention = &q.properties["MessageRetentionPeriod"];
        if LONG_RETENTION_QUEUES.contains(&q.logical_id.as_str()) {
            let secs = retention.as_u64().unwrap_or_else(|| panic!("{}: a number", q.logical_id));
            assert!(secs >= STANDARD.retention().as_secs(), "{}: {secs} s", q.logical_id);
        } else {
            assert_eq!(retention, &find_in_map("MessageRetentionPeriod"), "{}", q.logical_id);
        }
    }
    assert!(checked >= 12, "only {checked} queues with a redrive policy: did the template change shape?");
}

#[test]
fn every_step_gives_up_on_the_receive_its_queue_does() {
    let t = template();
    assert_eq!(t.function_globals["Environment"]["Variables"]["MAX_RECEIVE_COUNT"], find_in_map("MaxReceiveCount"));
    for f in t.resources_of(types::SERVERLESS_FUNCTION) {
        let own = &f.properties["Environment"]["Variables"]["MAX_RECEIVE_COUNT"];
        assert!(own.is_null(), "{} overrides MAX_RECEIVE_COUNT: {own}", f.logical_id);
    }
}
