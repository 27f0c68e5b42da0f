//! SQS bodies of every step, through the decoder each function runs: arbitrary
//! text and arbitrary JSON never panic; a failure is permanent and never quotes
//! the input.

use kit::decode::{Decode, DecodeError, EnvelopeBody, JsonBody};
use kit::{Classify, ErrorClass, Message};
use proptest::prelude::*;

use crate::support::{json_tree, sqs_message, EMAIL_PART};

/// The field names of every queue's messages (envelopes and seed shapes).
pub const FIELDS: &[&str] = &[
    "type",
    "version",
    "id",
    "workflow_id",
    "correlation_id",
    "occurred_at",
    "payload",
    // record-login, mark-reported
    "report_id",
    "user_id",
    "email",
    "event_ids",
    "reported_at",
    "service_id",
    "service_name",
    "timestamp",
    // approvals
    "request_id",
    "decision",
    "decided_at",
    // contacts
    "contact_id",
    // workflow.action
    "seq",
    "scheme",
    "title",
    "owner",
    "approvers",
    "action",
    "actor",
    "actor_roles",
    "from_state",
    "to_state",
    "step_id",
    "at",
    "comment",
    "data",
];

fn envelope<M: Message>(body: &str) -> Result<(), DecodeError> {
    EnvelopeBody::<M>::default().decode(&sqs_message(body)).map(|_| ())
}

/// Runs every step's decoder on `body` (and the on-prem processor's, which reads
/// the FIFO queue); returns the failure reasons.
pub fn decode_all(body: &str) -> Vec<String> {
    let m = sqs_message(body);
    let mut reasons = Vec::new();
    let mut check = |r: Result<(), DecodeError>| {
        if let Err(e) = r {
            assert_eq!(e.class(), ErrorClass::Permanent, "a bad body must not be retried: {e}");
            reasons.push(e.to_string());
        }
    };
    check(JsonBody::<activity::RawLoginEvent>::default().decode(&m).map(|_| ()));
    check(JsonBody::<reports::ReportSubmission>::default().decode(&m).map(|_| ()));
    check(envelope::<reports::ReportRequested>(body));
    check(envelope::<reports::TicketCreated>(body));
    check(envelope::<approvals::ApprovalRequested>(body));
    check(envelope::<approvals::ApprovalDecided>(body));
    check(envelope::<contacts::PollContact>(body));
    check(envelope::<contacts::CheckRecording>(body));
    check(envelope::<audit::WorkflowAction>(body));
    if let Err(reason) = action_processor::process::decode(body) {
        reasons.push(reason);
    }
    reasons
}

proptest! {
    #[test]
    fn any_text_is_decoded_or_refused_permanently(body in "\\PC{0,400}") {
        decode_all(&body);
    }

    #[test]
    fn any_json_is_decoded_or_refused_without_quoting_it(value in json_tree(FIELDS)) {
        for reason in decode_all(&value.to_string()) {
            prop_assert!(!reason.contains(EMAIL_PART), "reason quotes the input: {reason}");
        }
    }
}
