//! The step kit: everything a choreographed step needs besides its own domain logic.
//!
//! A step is a Lambda on one SQS queue. The kit parses each record on its own
//! ([`decode`]), runs records concurrently and answers with a partial batch
//! response ([`batch`]), classifies failures into retries with backoff or
//! dead-letters with a reason ([`error`], [`backoff`], [`queue`]), makes side
//! effects happen once per key ([`idempotency`]), publishes the next event
//! ([`publisher`]), and carries the correlation id into every log line
//! ([`telemetry`]) and metric ([`metrics`]). The API functions share one reader of
//! list claims (`roles`, `cognito:groups`) as API Gateway hands them over ([`claims`]).
//!
//! What every step repeats is here too: the settings every step reads
//! ([`config::StepConfig`]), a `main` in a few lines ([`start`]), one error enum for
//! DynamoDB-backed stores and conditional writes whose failed condition means
//! "already done" ([`store`]), validation of a decoded body in one place
//! ([`decode::JsonBody::validated`]), and fakes and builders for tests ([`testing`],
//! feature `testing`).
//!
//! A whole step, decoded, run and settled by the runner:
//!
//! ```
//! use std::sync::Arc;
//! use kit::batch::{BatchRunner, FnStep, Outcome, RecordContext, RunnerConfig, Settlement};
//! use kit::decode::JsonBody;
//! use kit::testing::{FakeQueues, SqsRecord};
//!
//! #[derive(serde::Deserialize)]
//! struct Order { id: String, pence: u32 }
//!
//! # tokio_test(async {
//! let queues = Arc::new(FakeQueues::default());
//! let runner = BatchRunner::new(RunnerConfig::new("record-order"), queues.clone());
//! let decoder = Arc::new(JsonBody::validated("invalid_order", |o: Order| {
//!     if o.pence == 0 { Err("an order costs something") } else { Ok(o) }
//! }));
//! let step = Arc::new(FnStep(|_ctx: RecordContext, order: Order| async move {
//!     assert!(!order.id.is_empty());
//!     Ok::<_, kit::store::StoreError>(Outcome::Done)
//! }));
//! let records = vec![
//!     SqsRecord::new(r#"{"id":"o-1","pence":250}"#).message_id("m-1").build(),
//!     SqsRecord::new(r#"{"id":"o-2","pence":0}"#).message_id("m-2").build(),
//! ];
//! let settled = runner.settle_all(records, None, decoder, step).await;
//! let of = |id: &str| settled.iter().find(|(m, _)| m == id).map(|(_, s)| s.clone());
//! assert_eq!(of("m-1"), Some(Settlement::Acknowledged(Outcome::Done)));
//! assert_eq!(of("m-2"), Some(Settlement::DeadLettered { kind: "invalid_order".into() }));
//! assert_eq!(queues.dead_letters()[0].reason, "an order costs something");
//! # });
//! # fn tokio_test(f: impl std::future::Future<Output = ()>) {
//! #     tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
//! # }
//! ```
//!
//! The guide to writing a step is `docs/step-kit.md`; a whole one, with its tests,
//! is `examples/record_feedback.rs`.

#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod backoff;
pub mod batch;
pub mod claims;
pub mod clock;
pub mod config;
pub mod decode;
pub mod envelope;
pub mod error;
pub mod http;
pub mod idempotency;
pub mod metrics;
pub mod publisher;
pub mod queue;
pub mod redrive;
pub mod retry;
pub mod sdk;
pub mod start;
pub mod store;
pub mod telemetry;
#[cfg(any(test, doc, feature = "testing"))]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;
pub mod tls;

#[cfg(test)]
mod batch_tests;

pub use batch::{BatchRunner, DeadLetterNotice, RecordContext};
pub use envelope::{Envelope, Message};
pub use error::{Classify, ErrorClass};
