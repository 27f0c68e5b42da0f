//! One stuck workflow, as both the detector and `ops` report it.

use chrono::{DateTime, Duration, Utc};

use crate::kind::{Kind, StuckState};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub state: StuckState,
    /// The workflow's id in its system (report, request, contact, workflow id).
    pub id: String,
    /// Since when it has been in this state (what the limit counts from).
    pub since: DateTime<Utc>,
    /// How long the state may last.
    pub limit: Duration,
    /// The step it waits for, for people.
    pub waiting_for: String,
}

impl Finding {
    pub fn kind(&self) -> Kind {
        self.state.kind()
    }

    /// How far past its limit it is at `now`.
    pub fn overdue(&self, now: DateTime<Utc>) -> Duration {
        now - self.since - self.limit
    }
}
