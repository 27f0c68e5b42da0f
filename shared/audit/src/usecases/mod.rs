//! The API's and the two steps' logic, over the ports: testable without AWS.

mod audit;
mod notify;
mod redrive;
mod workflows;

pub use audit::{append_record, check_trail, search, verify, SearchParams};
pub use notify::{list_notifications, mark_read, notify, Listed};
pub use redrive::{announce_again, ANNOUNCE_STEP};
pub use workflows::{act, create_workflow, view, Accepted, RequestContext};

#[cfg(test)]
mod tests;

use crate::error::InvalidInput;

pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 100;

/// `limit` as the API takes it: 1..=100, default 20.
pub fn parse_limit(raw: Option<&str>) -> Result<u32, InvalidInput> {
    match raw.map(str::trim) {
        None | Some("") => Ok(DEFAULT_LIMIT),
        Some(text) => match text.parse::<u32>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            _ => Err(InvalidInput::new(format!("limit must be a whole number from 1 to {MAX_LIMIT}"))),
        },
    }
}
