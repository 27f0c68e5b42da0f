//! Seed 000, Option 1: reporting suspicious activity as a choreography of four
//! steps over SQS and SNS.
//!
//! ```text
//! report-suspicious-activity ─▶ mark-reported ─▶ (report-requested)
//!     ─▶ create-zendesk-ticket ─▶ (report-ticket-created) ─┬▶ send-txma-event ─┐
//!                                                          └▶ send-notify-email ┴▶ COMPLETED (fan-in)
//! ```
//!
//! The report item is the workflow's state. Every side effect outside AWS is
//! guarded so a redelivery cannot repeat it: Zendesk by `Idempotency-Key` plus a
//! lookup by `external_id`, Notify and TxMA by a claim on the report item plus,
//! after an attempt whose outcome is unknown, a lookup by `reference` (Notify) or a
//! deterministic event id (TxMA).

pub mod clients;
pub mod config;
pub mod dynamo;
pub mod error;
pub mod messages;
pub mod ports;
pub mod report;
pub mod request;
pub mod secrets;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod txma;
pub mod usecases;

pub use error::ReportError;
pub use messages::{ReportRequested, TicketCreated};
pub use report::{Effect, Failure, Report, ReportStatus};
pub use request::{InvalidReport, ReportRequest, ReportSubmission};
