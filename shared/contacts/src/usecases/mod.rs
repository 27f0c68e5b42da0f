//! The steps' logic, over the ports: testable without AWS.

mod check;
mod ingest;
mod poll;
mod sweep;
mod watch;

pub use check::{check_recording, CheckSettings};
pub use ingest::{ingest, IngestSummary};
pub use poll::poll_contact;
pub use sweep::{choose_polls, sweep, SweepSettings, SweepSummary, SWEEP_PAGE};
pub use watch::{judge, watch_flow_logs, WatchReport, WatchSettings, NEW_WINDOW_GAP};

#[cfg(test)]
mod tests;
