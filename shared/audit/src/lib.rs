//! Seed 004: an audit trail and real-time notifications for a workflow application.
//!
//! ```text
//! workflow-api ──(workflow.action)──┬─▶ create-audit-record ─▶ audit table (append-only, hash-chained)
//!   (JWT, roles)                    └─▶ send-notification ───▶ notifications table ─▶ IoT notifications-{user}
//! ```
//!
//! The workflow item is the state machine; every accepted action gets the next
//! sequence number in the same conditional write that changes the state, and
//! that number keys the action's audit record and notifications, so a redelivered
//! event can never add a second one.

pub mod canonical;
pub mod claims;
pub mod cursor;
pub mod dynamo;
pub mod error;
pub mod ids;
#[cfg(feature = "iot")]
pub mod iot;
#[cfg(feature = "kms")]
pub mod kms;
pub mod messages;
pub mod notification;
pub mod ports;
pub mod record;
pub mod request;
pub mod roles;
pub mod signing;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod time;
pub mod usecases;
pub mod workflow;

pub use error::{AuditError, InvalidInput};
pub use ids::{Scheme, UserId, WorkflowId};
pub use messages::{AnnounceAgain, WorkflowAction};
pub use notification::Notification;
pub use record::{AuditRecord, ChainCheck};
pub use roles::{Role, Roles};
pub use workflow::{ActionKind, Caller, Refusal, Workflow, WorkflowState};
