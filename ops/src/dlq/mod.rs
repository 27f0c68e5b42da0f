//! `ops dlq`: list, show, redrive.

mod list;
mod redrive;
pub mod show;

pub use list::{list, DlqSummary};
pub use redrive::{redrive, RedriveOptions, RedriveReport};
pub use show::show;

use kit::queue::attr;

/// The kit's dead-letter attributes: a redrive strips them so the record starts
/// clean (the correlation id stays: it is the producer's).
pub const KIT_ATTRIBUTES: &[&str] = &[
    attr::REASON,
    attr::KIND,
    attr::CLASS,
    attr::STEP,
    attr::FIRST_SEEN,
    attr::RECEIVE_COUNT,
    attr::SOURCE_QUEUE,
    attr::ORIGINAL_MESSAGE_ID,
];
