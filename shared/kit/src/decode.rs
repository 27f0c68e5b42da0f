//! Turning one SQS record into a typed input, on its own: a bad body fails only itself.

use std::marker::PhantomData;

use aws_lambda_events::sqs::SqsMessage;
use serde::de::DeserializeOwned;

use crate::envelope::{Envelope, Message};
use crate::error::{Classify, ErrorClass};

/// What a decoder found: the input plus the ids that go on every log line.
#[derive(Debug, Clone)]
pub struct Decoded<T> {
    /// The step's input.
    pub input: T,
    /// The correlation id (the envelope's, the `correlation_id` attribute, or the message id).
    pub correlation_id: String,
    /// The workflow's id, when the message carries one.
    pub workflow_id: Option<String>,
}

/// Why a record could not be decoded. Always permanent: the same bytes will fail again.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The record has no body.
    #[error("record has no body")]
    MissingBody,
    /// The body is not JSON.
    #[error("body is not valid JSON: {0}")]
    NotJson(String),
    /// The JSON does not have the expected fields and types.
    #[error("body does not match the expected shape: {0}")]
    InvalidShape(String),
    /// `found` as [`type_in_reason`] renders it.
    #[error("unexpected message type {found} (this step reads {expected:?})")]
    WrongType {
        /// The type this step reads.
        expected: &'static str,
        /// The type the message carried, as [`type_in_reason`] renders it.
        found: String,
    },
    /// An envelope of a payload version this step does not read.
    #[error("unsupported version {found} of {kind:?} (this step reads version {supported})")]
    UnknownVersion {
        /// The message type.
        kind: &'static str,
        /// The version the message carried.
        found: u32,
        /// The version this step reads.
        supported: u32,
    },
    /// The input is invalid (a decoder's own check).
    #[error("invalid input: {0}")]
    Invalid(String),
    /// The body's shape or values failed a [`Validated`] decoder: one kind, the step's.
    #[error("{reason}")]
    Rejected {
        /// The step's name for a bad body (`invalid_order`).
        kind: &'static str,
        /// What is wrong, without the input's values.
        reason: String,
    },
}

impl Classify for DecodeError {
    fn class(&self) -> ErrorClass {
        ErrorClass::Permanent
    }
    fn kind(&self) -> &'static str {
        match self {
            DecodeError::MissingBody => "missing_body",
            DecodeError::NotJson(_) => "not_json",
            DecodeError::InvalidShape(_) => "invalid_shape",
            DecodeError::WrongType { .. } => "wrong_type",
            DecodeError::UnknownVersion { .. } => "unknown_version",
            DecodeError::Invalid(_) => "invalid_input",
            DecodeError::Rejected { kind, .. } => kind,
        }
    }
}

/// serde's messages quote input values (`invalid type: string "a@b.c"`): a reason
/// goes to logs and DLQ attributes, so quoted values are cut out. Field names in
/// missing/duplicate-field messages are kept: they are ours, not the sender's.
pub fn redacted(err: &serde_json::Error) -> String {
    let text = err.to_string();
    let keep_backticks = text.starts_with("missing field") || text.starts_with("duplicate field");
    let mut out = String::with_capacity(text.len());
    let mut open: Option<char> = None;
    for c in text.chars() {
        match open {
            Some(q) if c == q => {
                out.push('…');
                out.push(c);
                open = None;
            }
            Some(_) => {}
            None if c == '"' || (c == '`' && !keep_backticks) => {
                out.push(c);
                open = Some(c);
            }
            None => out.push(c),
        }
    }
    out
}

/// The `type` a message carried, as a reason may show it. Ours are names like
/// `report.ticket-created` and are quoted; anything else is the sender's text (it
/// could be an address) and is only described.
pub fn type_in_reason(kind: &str) -> String {
    let name = !kind.is_empty()
        && kind.len() <= 64
        && kind.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
    if name {
        format!("{kind:?}")
    } else {
        "<not a type name>".to_owned()
    }
}

fn shape(e: serde_json::Error) -> DecodeError {
    if e.is_syntax() || e.is_eof() {
        DecodeError::NotJson(redacted(&e))
    } else {
        DecodeError::InvalidShape(redacted(&e))
    }
}

/// A way to read one record's body.
pub trait Decode: Send + Sync + 'static {
    /// What the step receives.
    type Output: Send + 'static;
    /// Reads one record; an error dead-letters it at once (permanent).
    fn decode(&self, msg: &SqsMessage) -> Result<Decoded<Self::Output>, DecodeError>;
}

/// Message attribute an entry queue's producer may set to carry its correlation id.
pub const CORRELATION_ATTRIBUTE: &str = "correlation_id";

fn body(msg: &SqsMessage) -> Result<&str, DecodeError> {
    msg.body.as_deref().ok_or(DecodeError::MissingBody)
}

fn attribute_correlation_id(msg: &SqsMessage) -> Option<String> {
    msg.message_attributes.get(CORRELATION_ATTRIBUTE).and_then(|a| a.string_value.clone()).filter(|s| !s.is_empty())
}

/// Entry queues carry an outside producer's JSON as is (seed shapes, not envelopes).
/// The correlation id comes from the `correlation_id` attribute, else the message id.
pub struct JsonBody<T>(PhantomData<fn() -> T>);

impl<T> Default for JsonBody<T> {
    fn default() -> Self {
        Self(PhantomData)
    }
}

impl<T: DeserializeOwned + Send + 'static> Decode for JsonBody<T> {
    type Output = T;
    fn decode(&self, msg: &SqsMessage) -> Result<Decoded<T>, DecodeError> {
        let value: serde_json::Value = serde_json::from_str(body(msg)?).map_err(shape)?;
        let input = serde_json::from_value(value).map_err(|e| DecodeError::InvalidShape(redacted(&e)))?;
        let correlation_id = attribute_correlation_id(msg).or_else(|| msg.message_id.clone()).unwrap_or_default();
        Ok(Decoded { input, correlation_id, workflow_id: None })
    }
}

impl<T: DeserializeOwned + Send + 'static> JsonBody<T> {
    /// A decoder that reads `T` and then checks it with `check`, turning the raw
    /// shape into the step's input type. A body with a missing field and one with a
    /// bad value are one mistake to the sender, so both are dead-lettered under the
    /// same `kind` (a body that is not JSON at all stays `not_json`).
    ///
    /// `check`'s error becomes the DLQ reason: it must not quote the input's values.
    pub fn validated<U, E, F>(kind: &'static str, check: F) -> Validated<T, F>
    where
        F: Fn(T) -> Result<U, E> + Send + Sync + 'static,
        E: std::fmt::Display,
        U: Send + 'static,
    {
        Validated { kind, check, raw: JsonBody::default() }
    }
}

/// [`JsonBody`] with a validation step: see [`JsonBody::validated`].
pub struct Validated<T, F> {
    kind: &'static str,
    check: F,
    raw: JsonBody<T>,
}

impl<T, U, E, F> Decode for Validated<T, F>
where
    T: DeserializeOwned + Send + 'static,
    F: Fn(T) -> Result<U, E> + Send + Sync + 'static,
    E: std::fmt::Display,
    U: Send + 'static,
{
    type Output = U;
    fn decode(&self, msg: &SqsMessage) -> Result<Decoded<U>, DecodeError> {
        let rejected = |reason: String| DecodeError::Rejected { kind: self.kind, reason };
        let raw = self.raw.decode(msg).map_err(|e| match e {
            DecodeError::InvalidShape(reason) => rejected(reason),
            other => other,
        })?;
        let input = (self.check)(raw.input).map_err(|e| rejected(e.to_string()))?;
        Ok(Decoded { input, correlation_id: raw.correlation_id, workflow_id: raw.workflow_id })
    }
}

/// Messages between steps: an [`Envelope`] whose type and version must match `M`.
pub struct EnvelopeBody<M>(PhantomData<fn() -> M>);

impl<M> Default for EnvelopeBody<M> {
    fn default() -> Self {
        Self(PhantomData)
    }
}

impl<M: Message> Decode for EnvelopeBody<M> {
    type Output = Envelope<M>;
    fn decode(&self, msg: &SqsMessage) -> Result<Decoded<Envelope<M>>, DecodeError> {
        let raw: Envelope<serde_json::Value> = serde_json::from_str(body(msg)?).map_err(shape)?;
        if raw.kind != M::TYPE {
            return Err(DecodeError::WrongType { expected: M::TYPE, found: type_in_reason(&raw.kind) });
        }
        if raw.version != M::VERSION {
            return Err(DecodeError::UnknownVersion { kind: M::TYPE, found: raw.version, supported: M::VERSION });
        }
        let payload: M = serde_json::from_value(raw.payload).map_err(|e| DecodeError::InvalidShape(redacted(&e)))?;
        let correlation_id = raw.correlation_id.clone();
        let workflow_id = Some(raw.workflow_id.clone());
        let input = Envelope {
            kind: raw.kind,
            version: raw.version,
            id: raw.id,
            workflow_id: raw.workflow_id,
            correlation_id: raw.correlation_id,
            occurred_at: raw.occurred_at,
            payload,
        };
        Ok(Decoded { input, correlation_id, workflow_id })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    struct Ping {
        n: u32,
    }
    impl Message for Ping {
        const TYPE: &'static str = "test.ping";
        const VERSION: u32 = 1;
    }

    fn msg(body: &str) -> SqsMessage {
        let mut m = SqsMessage::default();
        m.message_id = Some("m-1".into());
        m.body = Some(body.into());
        m
    }

    #[test]
    fn json_body_uses_message_id_as_correlation_when_no_attribute() {
        let d = JsonBody::<Ping>::default().decode(&msg(r#"{"n":3}"#)).unwrap();
        assert_eq!(d.input, Ping { n: 3 });
        assert_eq!(d.correlation_id, "m-1");
    }

    #[test]
    fn json_body_distinguishes_not_json_from_wrong_shape() {
        let dec = JsonBody::<Ping>::default();
        assert_eq!(dec.decode(&msg("{nope")).unwrap_err().kind(), "not_json");
        assert_eq!(dec.decode(&msg(r#"{"n":"x"}"#)).unwrap_err().kind(), "invalid_shape");
        let empty = SqsMessage::default();
        assert_eq!(dec.decode(&empty).unwrap_err().kind(), "missing_body");
    }

    #[test]
    fn reasons_never_quote_input_values() {
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Person {
            email: u32,
            name: String,
        }
        let dec = JsonBody::<Person>::default();
        let err = dec.decode(&msg(r#"{"email":"bob@example.com","name":"x"}"#)).unwrap_err().to_string();
        assert!(!err.contains("bob@example.com"), "{err}");
        assert!(err.contains("invalid type"), "{err}");
        let missing = dec.decode(&msg(r#"{"email":1}"#)).unwrap_err().to_string();
        assert!(missing.contains("`name`"), "field names are kept: {missing}");
    }

    #[test]
    fn a_validated_body_is_rejected_under_one_kind_whether_a_field_is_missing_or_bad() {
        #[derive(Debug)]
        struct Positive(u32);
        let dec = JsonBody::<Ping>::validated("invalid_ping", |p: Ping| {
            if p.n == 0 {
                Err("n must be positive")
            } else {
                Ok(Positive(p.n))
            }
        });
        assert_eq!(dec.decode(&msg(r#"{"n":4}"#)).unwrap().input.0, 4);
        let missing = dec.decode(&msg(r#"{}"#)).unwrap_err();
        let bad = dec.decode(&msg(r#"{"n":0}"#)).unwrap_err();
        assert_eq!((missing.kind(), bad.kind()), ("invalid_ping", "invalid_ping"));
        assert_eq!((missing.class(), bad.class()), (ErrorClass::Permanent, ErrorClass::Permanent));
        assert!(missing.to_string().contains("`n`"), "{missing}");
        assert_eq!(bad.to_string(), "n must be positive");
        assert_eq!(dec.decode(&msg("{nope")).unwrap_err().kind(), "not_json");
    }

    #[test]
    fn envelope_checks_type_and_version() {
        let dec = EnvelopeBody::<Ping>::default();
        let ok = r#"{"type":"test.ping","version":1,"id":"e1","workflow_id":"w","correlation_id":"c","occurred_at":"2024-01-01T00:00:00Z","payload":{"n":1}}"#;
        let d = dec.decode(&msg(ok)).unwrap();
        assert_eq!(d.correlation_id, "c");
        assert_eq!(d.workflow_id.as_deref(), Some("w"));
        assert_eq!(d.input.payload, Ping { n: 1 });

        let v2 = ok.replace("\"version\":1", "\"version\":2");
        let err = dec.decode(&msg(&v2)).unwrap_err();
        assert_eq!(err.kind(), "unknown_version");
        assert_eq!(err.class(), ErrorClass::Permanent);

        let other = ok.replace("test.ping", "test.pong");
        let err = dec.decode(&msg(&other)).unwrap_err();
        assert_eq!(err.kind(), "wrong_type");
        assert!(err.to_string().contains(r#""test.pong""#), "a type name is quoted: {err}");
    }

    #[test]
    fn a_type_that_is_no_type_name_is_not_quoted() {
        let dec = EnvelopeBody::<Ping>::default();
        let body = r#"{"type":"bob@example.com","version":1,"id":"e1","workflow_id":"w","correlation_id":"c","occurred_at":"2024-01-01T00:00:00Z","payload":{"n":1}}"#;
        let err = dec.decode(&msg(body)).unwrap_err();
        assert_eq!((err.kind(), err.class()), ("wrong_type", ErrorClass::Permanent));
        assert!(!err.to_string().contains("bob@"), "{err}");
        assert_eq!(type_in_reason(&"a".repeat(65)), "<not a type name>");
    }
}
