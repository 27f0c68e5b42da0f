//! Seed 003: the call recording leakage detector, as choreographed steps.
//!
//! ```text
//! Connect flow logs ─▶ ingest-connect-logs ─▶ contact INITIALISED (conditional put)
//! every 5 min ─▶ recording-sweep ─┬▶ poll-contact (DescribeContact) ─▶ IN_PROGRESS / COMPLETED
//!                                 ├▶ COMPLETED - QUEUE/IVR deleted
//!                                 └▶ check-recording (S3) ─▶ CALL_RECORDED_SUCCESS | _FAILURE ─▶ (recording-missing)
//! ```
//!
//! The contact item is the workflow's state. Its state only moves forward (a rank
//! guards every update), so replayed logs, repeated sweeps and duplicate messages
//! change nothing; the sweep reads a sparse index holding only contacts with work
//! left, so it never scans the table.

pub mod access;
pub mod config;
#[cfg(feature = "connect")]
pub mod connect;
pub mod contact;
pub mod dynamo;
pub mod error;
pub mod flow_log;
pub mod messages;
pub mod ports;
pub mod query;
pub mod recording;
#[cfg(feature = "s3")]
pub mod s3;
pub mod sqs;
pub mod state;
pub mod subscription;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod time;
pub mod usecases;
pub mod view;

pub use contact::{Contact, ContactId, InstanceId};
pub use error::ContactError;
pub use flow_log::RecordingRequested;
pub use messages::{CheckRecording, PollContact, RecordingMissing};
pub use state::{ContactState, RecordingState};
pub use view::ContactView;
