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
pub mod telemetry;
/// Fakes of the kit's ports for other crates' tests (feature `testing`).
#[cfg(any(test, feature = "testing"))]
pub mod testing;

#[cfg(test)]
mod batch_tests;

pub use batch::{BatchRunner, DeadLetterNotice, RecordContext};
pub use envelope::{Envelope, Message};
pub use error::{Classify, ErrorClass};
