//! Answers from Zendesk and GOV.UK Notify, read by the clients the report steps use:
//! no body panics; a body that is not the expected answer is a retryable provider
//! fault that never quotes it; an error code is kept only when shaped like a code,
//! so a provider echoing the request cannot put an address into a log or a DLQ
//! reason; a well-formed answer reads back exactly.

use kit::{Classify, ErrorClass};
use proptest::prelude::*;
use reports::clients::http::HttpError;
use reports::clients::{notify, zendesk};

use crate::support::{body_bytes, EMAIL_PART};

/// The field names of both providers' answers.
const FIELDS: &[&str] =
    &["ticket", "tickets", "id", "error", "title", "description", "errors", "message", "notifications", "status_code"];

/// A refusal of a body: a provider fault (the provider may have acted, so retry and
/// look it up), saying nothing of what the body held.
fn check_refusal(err: &HttpError) -> Result<(), TestCaseError> {
    prop_assert!(matches!(err, HttpError::Body { .. }), "{err:?}");
    prop_assert_eq!(err.class(), ErrorClass::Retryable);
    prop_assert!(!err.to_string().contains(EMAIL_PART), "{err}");
    Ok(())
}

fn check_code(code: Option<String>) -> Result<(), TestCaseError> {
    if let Some(code) = code {
        prop_assert!((1..=64).contains(&code.len()), "{code:?}");
        prop_assert!(code.chars().all(|c| c.is_ascii_alphabetic() || " _-.:".contains(c)), "{code:?}");
    }
    Ok(())
}

proptest! {
    #[test]
    fn any_zendesk_answer_is_read_or_refused_without_quoting_it(body in body_bytes(FIELDS)) {
        if let Err(e) = zendesk::created_ticket(&body) { check_refusal(&e)?; }
        if let Err(e) = zendesk::found_ticket(&body) { check_refusal(&e)?; }
        check_code(zendesk::error_code(&body))?;
    }

    #[test]
    fn any_notify_answer_is_read_or_refused_without_quoting_it(body in body_bytes(FIELDS)) {
        match notify::sent_notification(&body) {
            Ok(id) => prop_assert!(uuid::Uuid::try_parse(&id).is_ok(), "{id:?}"),
            Err(e) => check_refusal(&e)?,
        }
        match notify::found_notification(&body) {
            Ok(Some(id)) => prop_assert!(uuid::Uuid::try_parse(&id).is_ok(), "{id:?}"),
            Ok(None) => {}
            Err(e) => check_refusal(&e)?,
        }
        check_code(notify::error_code(&body))?;
    }

    #[test]
    fn error_codes_that_quote_the_request_are_dropped(code in "\\PC{0,80}", titled in any::<bool>()) {
        let zendesk = if titled {
            serde_json::json!({"error": {"title": code, "message": "x"}})
        } else {
            serde_json::json!({"error": code, "description": "x"})
        };
        let notify = serde_json::json!({"status_code": 400, "errors": [{"error": code, "message": "x"}]});
        for kept in [zendesk::error_code(zendesk.to_string().as_bytes()), notify::error_code(notify.to_string().as_bytes())] {
            check_code(kept.clone())?;
            prop_assert!(kept.is_none() || kept.as_deref() == Some(code.trim()), "{kept:?} from {code:?}");
        }
    }

    #[test]
    fn well_formed_answers_read_back_exactly(ids in prop::collection::vec(any::<u64>(), 0..5), uuids in prop::collection::vec(any::<u128>(), 0..5)) {
        if let Some(first) = ids.first() {
            let created = serde_json::json!({"ticket": {"id": first, "subject": "x"}});
            prop_assert_eq!(zendesk::created_ticket(created.to_string().as_bytes()).ok(), Some(*first));
        }
        let tickets: Vec<_> = ids.iter().map(|id| serde_json::json!({"id": id})).collect();
        let list = serde_json::json!({"tickets": tickets, "count": ids.len()});
        prop_assert_eq!(zendesk::found_ticket(list.to_string().as_bytes()).ok(), Some(ids.iter().copied().min()));

        let ids: Vec<String> = uuids.iter().map(|u| uuid::Uuid::from_u128(*u).to_string()).collect();
        if let Some(first) = ids.first() {
            let sent = serde_json::json!({"id": first, "reference": "r"});
            prop_assert_eq!(notify::sent_notification(sent.to_string().as_bytes()).ok(), Some(first.clone()));
        }
        let listed: Vec<_> = ids.iter().map(|id| serde_json::json!({"id": id})).collect();
        let listing = serde_json::json!({"notifications": listed, "links": {}});
        prop_assert_eq!(notify::found_notification(listing.to_string().as_bytes()).ok(), Some(ids.last().cloned()));
    }
}
