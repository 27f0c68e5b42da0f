//! Seed 002: issue action approval, choreographed on the step kit.
//!
//! ```text
//! on-prem service ─POST /approval-requests─▶ approval-api ─(approval.requested)─▶ send-approval-emails ─SES─▶ approvers
//! approver ─GET /approvals/{id}?token&action─▶ confirmation page (changes nothing)
//!          ─POST /approvals/{id}─▶ decide: ONE conditional write ─(approval.decided)─┬▶ enqueue-decision ─▶ approval-decisions.fifo
//!                                                                                   └▶ notify-approvers ─SES─▶ the others
//! on-prem action-processor ◀─long poll─ approval-decisions.fifo; reports EXECUTING / EXECUTED / FAILED through the API
//! approval-sweeper (every minute): re-publishes announcements a crash or a failed publish lost
//! ```
//!
//! The request item is the workflow's state. Tokens are 256 random bits, minted by
//! the email step, stored only as SHA-256 hashes, compared in constant time, and
//! checked against the request's expiry at every use.

pub mod body;
pub mod config;
pub mod dynamo;
pub mod email;
pub mod error;
pub mod fifo;
pub mod link;
pub mod messages;
pub mod metrics;
pub mod ports;
pub mod report;
pub mod request;
pub mod rules;
pub mod ses;
mod shared;
pub mod state;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod token;
pub mod usecases;
pub mod view;

pub use error::ApprovalError;
pub use messages::{ApprovalDecided, ApprovalRequested, DecisionMade};
pub use request::{InvalidRequest, NewRequest, RequestId, Submission};
pub use rules::ExecutionOutcome;
pub use state::{ApprovalRequest, AwaitedStep, Awaiting, Decision, Redrive, Status};
pub use token::Token;
