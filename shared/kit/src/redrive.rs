//! An operator's redrive of a workflow (`ops workflow redrive`), as each system's
//! item keeps it (a list, oldest first) and its timeline shows it: when, by whom,
//! and to which step the rebuilt message went.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One redrive, as the workflow's item keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redrive {
    /// When the message was sent again.
    pub at: DateTime<Utc>,
    /// Who asked (the operator's identity as `ops` knows it).
    pub by: String,
    /// The step the message was sent to.
    pub step: String,
}

/// The attribute every system's item keeps its redrives in.
pub const ATTRIBUTE: &str = "redrives";
