//! Seed 003: the call recording leakage detector, as choreographed steps.
//!
//! ```text
//! Connect flow logs ─▶ ingest-connect-logs ─▶ contact INITIALISED + its recording settings (a set)
//! every 5 min ─▶ recording-sweep ─┬▶ check-recording (S3) ─▶ CALL_RECORDED_SUCCESS | _FAILURE ─▶ (recording-missing)
//!                                 │                       └▶ RECORDING_NOT_EXPECTED (recording off when the agent connected)
//!                                 ├▶ COMPLETED - QUEUE/IVR deleted
//!                                 └▶ poll-contact (DescribeContact, paced) ─▶ IN_PROGRESS / COMPLETED
//!                                                                         └▶ RECORDING_NOT_APPLICABLE (chat, task)
//! business hours ─▶ recording-sweep's flow-log watch ─▶ FlowLogsSilent
//! ```
//!
//! The contact item is the workflow's state. Its state only moves forward (a rank
//! guards every update), so replayed logs, repeated sweeps and duplicate messages
//! change nothing; the sweep reads a sparse index holding only contacts with work
//! left, so it never scans the table, and sends a contact's poll only while no
//! other is out for it, within what Connect's quota can serve.

pub mod access;
pub mod config;
#[cfg(feature = "connect")]
pub mod connect;
pub mod contact;
pub mod dynamo;
pub mod error;
pub mod expectation;
pub mod flow_log;
pub mod messages;
pub mod metrics;
pub mod pace;
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
pub use expectation::{Expectation, RecordingSetting, RecordingSettings};
pub use flow_log::FlowRecordingSetting;
pub use messages::{CheckRecording, PollContact, RecordingMissing};
pub use state::{ContactState, RecordingState};
pub use view::{Channel, ContactView};
