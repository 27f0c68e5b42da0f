//! Domain validation after decoding: logins and report submissions with arbitrary
//! field values, and the query API's cursor, never panic and never echo personal data.

use activity::cursor::Cursor;
use activity::{LoginEvent, RawLoginEvent};
use proptest::prelude::*;
use reports::{ReportRequest, ReportSubmission};

fn now() -> chrono::DateTime<chrono::Utc> {
    "2024-06-01T12:00:00Z".parse().unwrap()
}

proptest! {
    #[test]
    fn any_login_is_parsed_or_refused(
        user in "\\PC{0,300}",
        service in "\\PC{0,200}",
        name in "\\PC{0,300}",
        ts in prop_oneof!["\\PC{0,40}", Just("2024-06-01T10:00:00Z".to_owned()), Just("9999-12-31T23:59:59Z".to_owned())],
        event_id in proptest::option::of("\\PC{0,200}"),
    ) {
        let raw = RawLoginEvent { user_id: user, service_id: service, service_name: name, timestamp: ts, event_id, session_id: None };
        let _ = LoginEvent::parse(raw, now());
    }

    #[test]
    fn any_report_is_parsed_or_refused_without_echoing_the_email(
        report_id in prop_oneof!["\\PC{0,50}", Just("8d0c7a4e-3b1f-4f5e-9a61-0c2b8e7d9f10".to_owned())],
        user in "\\PC{0,300}",
        local in "[a-z.]{0,20}",
        events in prop::collection::vec("\\PC{0,150}", 0..60),
    ) {
        let email = format!("{local}@example.gov.uk");
        let raw = ReportSubmission { report_id, user_id: user, email: email.clone(), event_ids: events, reported_at: now() };
        if let Err(e) = ReportRequest::parse(raw) {
            prop_assert!(local.is_empty() || !e.to_string().contains(&email), "{e}");
        }
    }

    #[test]
    fn any_cursor_text_is_decoded_or_refused(text in "\\PC{0,300}") {
        let _ = Cursor::decode(&text);
    }

    /// Every cursor the API issues (an activity item's keys) is accepted back.
    #[test]
    fn cursors_round_trip(event in "[ -~]{0,80}", t in "[0-9#a-z]{1,60}") {
        let c = Cursor { sk: format!("EVENT#{event}"), activity_time: t };
        prop_assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
    }
}
