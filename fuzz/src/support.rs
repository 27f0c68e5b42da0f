//! What the targets share: the secret that must never be quoted back, SQS records,
//! JSON trees over a message's real field names, and a runtime for the use cases.

use std::collections::HashMap;
use std::future::Future;

use aws_lambda_events::sqs::{SqsMessage, SqsMessageAttribute};
use chrono::{DateTime, Utc};
use proptest::prelude::*;
use serde_json::Value;

/// An address planted among the inputs: no reason, message or page may quote it.
pub const EMAIL: &str = "secret.person@example.gov.uk";
/// What a quoted [`EMAIL`] would contain, whatever was cut around it.
pub const EMAIL_PART: &str = "secret.person@";

/// The fixed "now" of every target (inputs' times range around it).
pub fn now() -> DateTime<Utc> {
    "2024-06-01T12:00:00Z".parse().unwrap()
}

/// Runs a use case to completion on this thread's runtime.
pub fn block_on<F: Future>(future: F) -> F::Output {
    thread_local! {
        static RUNTIME: tokio::runtime::Runtime =
            tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    }
    RUNTIME.with(|rt| rt.block_on(future))
}

/// A record's context as the batch runner makes it (first delivery, no deadline).
pub fn record_context() -> kit::batch::RecordContext {
    kit::batch::RecordContext {
        step: std::sync::Arc::from("fuzz"),
        message_id: "m-1".into(),
        correlation_id: "c-1".into(),
        workflow_id: None,
        receive_count: 1,
        first_received_at: None,
        group_id: None,
        deadline: None,
    }
}

/// `body` as SQS delivers it, with a producer's correlation id attribute.
pub fn sqs_message(body: &str) -> SqsMessage {
    let mut m = SqsMessage::default();
    m.message_id = Some("m-1".into());
    m.body = Some(body.to_owned());
    let mut attr = SqsMessageAttribute::default();
    attr.string_value = Some("corr".into());
    attr.data_type = Some("String".into());
    m.message_attributes = HashMap::from([("correlation_id".to_owned(), attr)]);
    m
}

/// Strings a parser is likely to meet: ours (ids, times, states), hostile ones
/// (separators, wildcards, controls), the planted address, and anything at all.
pub fn text() -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        4 => "\\PC{0,60}",
        2 => "[ -~]{0,40}",
        1 => Just(EMAIL.to_owned()),
        1 => prop::sample::select(vec![
            "", " ", "req-1", "alice", "bob", "a/b", "#", "+", "x\u{0}y", "\n",
            "8d0c7a4e-3b1f-4f5e-9a61-0c2b8e7d9f10", "1c0ffee0-0003-4003-8003-000000000001",
            "2024-06-01T12:00:00Z", "2024-06-01T12:00:00.123456+14:00", "0000-01-01T00:00:00-23:59",
            "9999-12-31T23:59:59Z", "APPROVED", "REJECTED", "DRAFT", "REQUESTED", "save", "approve",
            "requester", "approver", "auditor", "CALL_RECORDED_FAILURE",
        ])
        .prop_map(str::to_owned),
    ]
}

/// Any JSON, its objects keyed mostly by `keys` (the real field names, so the
/// decoders get past "missing field"), the planted address among the values.
pub fn json_tree(keys: &'static [&'static str]) -> impl Strategy<Value = Value> + Clone {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u32>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![3 => prop::sample::select(keys).prop_map(str::to_owned), 1 => "[a-z_]{1,10}"],
                inner,
                0..8
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A body as bytes: anything, any text, or JSON over `keys`.
pub fn body_bytes(keys: &'static [&'static str]) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        1 => prop::collection::vec(any::<u8>(), 0..200),
        1 => "\\PC{0,200}".prop_map(String::into_bytes),
        4 => json_tree(keys).prop_map(|v| v.to_string().into_bytes()),
    ]
}
