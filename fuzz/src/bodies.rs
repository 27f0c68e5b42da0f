//! SQS bodies of every step, through the kit's decoders: arbitrary text and
//! arbitrary JSON never panic; a failure is permanent and never quotes the input.

use std::collections::HashMap;

use aws_lambda_events::sqs::{SqsMessage, SqsMessageAttribute};
use kit::decode::{Decode, EnvelopeBody, JsonBody};
use kit::{Classify, ErrorClass};
use proptest::prelude::*;
use serde_json::Value;

fn message(body: &str) -> SqsMessage {
    let mut m = SqsMessage::default();
    m.message_id = Some("m-1".into());
    m.body = Some(body.to_owned());
    let mut attr = SqsMessageAttribute::default();
    attr.string_value = Some("corr".into());
    attr.data_type = Some("String".into());
    m.message_attributes = HashMap::from([("correlation_id".to_owned(), attr)]);
    m
}

/// Runs every step's decoder on `body`; returns the failure reasons.
fn decode_all(body: &str) -> Vec<String> {
    let m = message(body);
    let mut reasons = Vec::new();
    let mut check = |r: Result<(), (ErrorClass, String)>| {
        if let Err((class, reason)) = r {
            assert_eq!(class, ErrorClass::Permanent, "a bad body must not be retried: {reason}");
            reasons.push(reason);
        }
    };
    let err = |e: kit::decode::DecodeError| (e.class(), e.to_string());
    check(JsonBody::<activity::RawLoginEvent>::default().decode(&m).map(|_| ()).map_err(err));
    check(JsonBody::<reports::ReportSubmission>::default().decode(&m).map(|_| ()).map_err(err));
    check(EnvelopeBody::<reports::ReportRequested>::default().decode(&m).map(|_| ()).map_err(err));
    check(EnvelopeBody::<reports::TicketCreated>::default().decode(&m).map(|_| ()).map_err(err));
    reasons
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        "[ -~]{0,40}".prop_map(Value::String),
        Just(Value::String("secret.person@example.gov.uk".into())),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("report_id".to_owned()),
                    Just("user_id".to_owned()),
                    Just("email".to_owned()),
                    Just("event_ids".to_owned()),
                    Just("reported_at".to_owned()),
                    Just("service_id".to_owned()),
                    Just("timestamp".to_owned()),
                    Just("type".to_owned()),
                    Just("version".to_owned()),
                    Just("payload".to_owned()),
                    "[a-z_]{1,10}",
                ],
                inner,
                0..8
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn any_text_is_decoded_or_refused_permanently(body in "\\PC{0,400}") {
        decode_all(&body);
    }

    #[test]
    fn any_json_is_decoded_or_refused_without_quoting_it(value in json_value()) {
        for reason in decode_all(&value.to_string()) {
            prop_assert!(!reason.contains("secret.person@"), "reason quotes the input: {reason}");
        }
    }
}
