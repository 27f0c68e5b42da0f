//! The four steps' logic, over the ports: testable without AWS.

mod check;
mod ingest;
mod poll;
mod sweep;

pub use check::{check_recording, CheckSettings};
pub use ingest::{ingest, IngestSummary};
pub use poll::poll_contact;
pub use sweep::{sweep, SweepSummary, SWEEP_PAGE};

#[cfg(test)]
mod tests;
