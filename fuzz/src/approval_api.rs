//! approval-api's outside input: the on-prem service's request and execution-report
//! bodies, the request ids in its paths, and the approvers' links (query string on
//! GET, form body on POST). Refusals are the API's 4xx answers (bad request, or a
//! reused request id) and never echo an address or a token.

use std::collections::HashMap;

use approvals::body::json_body;
use approvals::report::ExecutionReport;
use approvals::testing::{FakeMailer, MemoryApprovalStore};
use approvals::usecases::{
    create_request, decide, send_approval_emails, DecideAnswer, EffectContext, LinkRequest, Refusal,
};
use approvals::{ApprovalError, ApprovalRequested, RequestId, Submission, Token};
use base64::Engine as _;
use kit::testing::RecordingPublisher;
use proptest::prelude::*;
use serde_json::json;

use crate::query_strings::{query_string, read};
use crate::support::{block_on, body_bytes, now, record_context, text, EMAIL, EMAIL_PART};

const SUBMISSION: &[&str] =
    &["request_id", "issue_id", "action", "action_parameters", "approvers", "expires_in_minutes", "reveal_approver"];
const REPORT: &[&str] = &["state", "attempt_id", "output"];

fn outbox_delay() -> chrono::Duration {
    chrono::Duration::seconds(30)
}

/// A submission that gets past the JSON shape: every field any value of its type.
fn typed_submission() -> impl Strategy<Value = Vec<u8>> {
    (
        proptest::option::of(prop_oneof![Just("req-1".to_owned()), text()]),
        text(),
        prop_oneof![Just("restart-service".to_owned()), text()],
        crate::support::json_tree(&["service", "email"]),
        prop::collection::vec(prop_oneof![Just(EMAIL.to_owned()), Just("b@example.org".to_owned()), text()], 0..24),
        prop_oneof![Just(30i64), any::<i64>()],
        any::<bool>(),
    )
        .prop_map(|(request_id, issue_id, action, params, approvers, minutes, reveal)| {
            json!({
                "request_id": request_id, "issue_id": issue_id, "action": action, "action_parameters": params,
                "approvers": approvers, "expires_in_minutes": minutes, "reveal_approver": reveal,
            })
            .to_string()
            .into_bytes()
        })
}

/// A 43-character base64url text, as a token in a link looks (never one issued).
fn forged_token() -> impl Strategy<Value = String> + Clone {
    prop::collection::vec(any::<u8>(), 32).prop_map(|b| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b))
}

fn link_value() -> impl Strategy<Value = String> + Clone {
    prop_oneof![2 => forged_token(), 1 => Just("approve".to_owned()), 1 => Just("reject".to_owned()), 3 => text()]
}

proptest! {
    #[test]
    fn any_request_body_is_stored_or_refused_with_a_4xx(
        body in prop_oneof![body_bytes(SUBMISSION), typed_submission()],
        again in any::<bool>(),
    ) {
        let submission: Submission = match json_body(&body) {
            Ok(s) => s,
            Err(e) => {
                prop_assert!(!e.to_string().contains(EMAIL_PART), "{}", e);
                return Ok(());
            }
        };
        let (store, publisher) = (MemoryApprovalStore::default(), RecordingPublisher::default());
        let mut result = block_on(create_request(&store, &publisher, submission.clone(), "c", now(), outbox_delay()));
        if again && result.is_ok() && submission.request_id.is_some() {
            // The service retrying: the same request again is answered, not refused.
            result = block_on(create_request(&store, &publisher, submission, "c", now(), outbox_delay()));
            prop_assert!(result.as_ref().is_ok_and(|o| !o.created), "a retry was refused: {:?}", result.err());
        }
        if let Err(e) = result {
            let text = e.to_string();
            // The API's 400 and 409; anything else would be its 500.
            prop_assert!(matches!(e, ApprovalError::Invalid(_) | ApprovalError::RequestIdReused { .. }), "{}", text);
            prop_assert!(!text.contains(EMAIL_PART), "{}", text);
        }
    }

    #[test]
    fn any_execution_report_is_read_or_refused_without_echoing_it(body in body_bytes(REPORT)) {
        match ExecutionReport::parse(&body) {
            Ok(ExecutionReport::Executing { attempt_id } | ExecutionReport::Finished { attempt_id, .. }) => {
                prop_assert!(RequestId::parse(&attempt_id).is_some(), "attempt id {:?} accepted", attempt_id);
            }
            Ok(ExecutionReport::RejectionRecorded) => {}
            Err(e) => prop_assert!(!e.to_string().contains(EMAIL_PART), "{}", e),
        }
    }

    #[test]
    fn any_request_id_in_a_path_is_read_or_refused(raw in text()) {
        if let Some(id) = RequestId::parse(&raw) {
            prop_assert_eq!(id.as_str(), raw.as_str());
            prop_assert!(id.as_str().bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        }
    }

    #[test]
    fn any_link_query_is_read_or_refused_without_echoing_the_token(
        raw_id in prop_oneof![Just("req-1".to_owned()), text()],
        query in query_string(&["token", "action"], link_value()),
    ) {
        let Some(fields) = read::<HashMap<String, String>>("/approvals/req-1", &query)? else {
            return Ok(());
        };
        match LinkRequest::parse(&raw_id, &fields) {
            Ok(link) => {
                prop_assert_eq!(&link.request_id, &raw_id);
                prop_assert_eq!(Some(link.token.expose()), fields.get("token").map(|t| t.trim().to_owned()));
                prop_assert_eq!(Some(link.decision.link_word()), fields.get("action").map(String::as_str));
            }
            Err(why) => {
                let page = why.to_string();
                for value in fields.values().filter(|v| v.len() >= 8) {
                    prop_assert!(!page.contains(value.as_str()), "the page echoes {:?}", value);
                }
            }
        }
    }

    #[test]
    fn any_form_body_is_read_or_refused(body in prop_oneof![
        prop::collection::vec(any::<u8>(), 0..200),
        query_string(&["token", "action"], link_value()).prop_map(String::into_bytes),
    ]) {
        if let Ok(link) = LinkRequest::from_form("req-1", &body) {
            prop_assert!(Token::parse(&link.token.expose()).is_ok());
        }
    }

    /// The link's token is the approver's only credential: no made-up token decides.
    #[test]
    fn a_forged_link_never_decides(token in forged_token(), approve in any::<bool>()) {
        let (store, publisher) = (MemoryApprovalStore::default(), RecordingPublisher::default());
        let submission = json_body(br#"{"request_id":"req-1","issue_id":"I","action":"a","approvers":["a@example.org","b@example.org"],"expires_in_minutes":60}"#).unwrap();
        block_on(create_request(&store, &publisher, submission, "c", now(), outbox_delay())).unwrap();
        // The approvers' real tokens are minted and mailed.
        let record = record_context();
        let ctx = EffectContext { record: &record, now: now() };
        let event = ApprovalRequested { request_id: "req-1".into() };
        block_on(send_approval_emails(&store, &FakeMailer::default(), "https://a.example/a", event, ctx)).unwrap();
        let action = if approve { "approve" } else { "reject" };
        let fields = HashMap::from([("token".to_owned(), token), ("action".to_owned(), action.to_owned())]);
        let link = LinkRequest::parse("req-1", &fields).unwrap();
        let answer = block_on(decide(&store, &publisher, &link, "c", now(), outbox_delay())).unwrap();
        prop_assert!(matches!(answer, DecideAnswer::Refused(Refusal::UnknownToken)), "{:?}", answer);
    }
}
