//! How long each stuck state may last: the defaults, and the environment variables
//! the `stuck-detector` reads (the template sets them; `ops` reads the same values
//! from the template, so both use the deployed limits).
//!
//! | state | default | why |
//! |---|---|---|
//! | report open | 15 min | the four steps take seconds; a provider outage is paged sooner by its own alarm, and a lost message otherwise waits forever |
//! | approval emails | 15 min after the first due time | the sweep re-announces every 5 minutes: three tries have failed, and approvers are still without their links |
//! | approval enqueue | 10 min after the first due time | the on-prem service waits for each decision; two sweeps' re-announcements have not got it onto the FIFO queue |
//! | approval pickup | 15 min after the enqueue | the processor long-polls every 20 s; a quarter of an hour unpicked means it is down or the message is gone |
//! | approval executing | the processor's action timeout + 5 min | past its timeout the processor kills the action and reports FAILED within its report retries |
//! | contact call | 4 h (`STUCK_CONTACT_CALL_SECONDS`) | longer than any call this service expects: set it to your centre's longest call |
//! | contact check | the recording grace + 10 min | the grace, then the next sweep (≤ 5 min) sends the check, with a sweep to spare |
//! | workflow announce | 15 min | the API announces within the request; a failed publish is repaired by the next request, which may never come |

use std::collections::BTreeMap;

use chrono::Duration;
use kit::config::Env;

use crate::kind::StuckState;

/// Environment variables (seconds).
pub mod vars {
    pub const REPORT_OPEN: &str = "STUCK_REPORT_OPEN_SECONDS";
    pub const APPROVAL_EMAILS: &str = "STUCK_APPROVAL_EMAILS_SECONDS";
    pub const APPROVAL_ENQUEUE: &str = "STUCK_APPROVAL_ENQUEUE_SECONDS";
    pub const APPROVAL_PICKUP: &str = "STUCK_APPROVAL_PICKUP_SECONDS";
    /// The on-prem processor's `EXECUTOR_TIMEOUT_SECS` (the template's `ActionTimeoutSeconds`).
    pub const ACTION_TIMEOUT: &str = "ACTION_TIMEOUT_SECONDS";
    pub const CONTACT_CALL: &str = "STUCK_CONTACT_CALL_SECONDS";
    /// check-recording's grace (the template's `RecordingGraceSeconds`).
    pub const RECORDING_GRACE: &str = "RECORDING_GRACE_SECONDS";
    pub const WORKFLOW_ANNOUNCE: &str = "STUCK_WORKFLOW_ANNOUNCE_SECONDS";

    pub const ALL: [&str; 8] = [
        REPORT_OPEN,
        APPROVAL_EMAILS,
        APPROVAL_ENQUEUE,
        APPROVAL_PICKUP,
        ACTION_TIMEOUT,
        CONTACT_CALL,
        RECORDING_GRACE,
        WORKFLOW_ANNOUNCE,
    ];
}

/// The processor's report of a timed-out action may take its report retries.
pub const EXECUTING_MARGIN_SECS: i64 = 300;
/// The recording sweep's interval: after the grace, the next sweep sends the check.
pub const SWEEP_INTERVAL_SECS: i64 = 300;
/// The processor's default `EXECUTOR_TIMEOUT_SECS`, and check-recording's default grace.
pub const DEFAULT_ACTION_TIMEOUT_SECS: i64 = 300;
pub const DEFAULT_RECORDING_GRACE_SECS: i64 = 900;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    by_state: BTreeMap<StuckState, Duration>,
}

impl Default for Limits {
    fn default() -> Self {
        Self::from_seconds(&Settings::default())
    }
}

/// The configurable numbers, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Settings {
    report_open: i64,
    approval_emails: i64,
    approval_enqueue: i64,
    approval_pickup: i64,
    action_timeout: i64,
    contact_call: i64,
    recording_grace: i64,
    workflow_announce: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            report_open: 900,
            approval_emails: 900,
            approval_enqueue: 600,
            approval_pickup: 900,
            action_timeout: DEFAULT_ACTION_TIMEOUT_SECS,
            contact_call: 4 * 3600,
            recording_grace: DEFAULT_RECORDING_GRACE_SECS,
            workflow_announce: 900,
        }
    }
}

impl Limits {
    fn from_seconds(s: &Settings) -> Self {
        let by_state = StuckState::ALL
            .into_iter()
            .map(|state| {
                let secs = match state {
                    StuckState::ReportOpen => s.report_open,
                    StuckState::ApprovalEmails => s.approval_emails,
                    StuckState::ApprovalEnqueue => s.approval_enqueue,
                    StuckState::ApprovalPickup => s.approval_pickup,
                    StuckState::ApprovalExecuting => s.action_timeout + EXECUTING_MARGIN_SECS,
                    StuckState::ContactCall => s.contact_call,
                    StuckState::ContactCheck => s.recording_grace + 2 * SWEEP_INTERVAL_SECS,
                    StuckState::WorkflowAnnounce => s.workflow_announce,
                };
                (state, Duration::seconds(secs))
            })
            .collect();
        Self { by_state }
    }

    /// From the environment (each variable optional, its default otherwise); a
    /// negative or unreadable value is recorded in `env` for [`Env::finish`].
    pub fn from_env(env: &mut Env) -> Self {
        let d = Settings::default();
        let mut read = |name: &str, default: i64| {
            let v: i64 = env.parse_or(name, default);
            if v < 0 {
                env.reject(name, "must be zero or more seconds");
            }
            v.max(0)
        };
        let s = Settings {
            report_open: read(vars::REPORT_OPEN, d.report_open),
            approval_emails: read(vars::APPROVAL_EMAILS, d.approval_emails),
            approval_enqueue: read(vars::APPROVAL_ENQUEUE, d.approval_enqueue),
            approval_pickup: read(vars::APPROVAL_PICKUP, d.approval_pickup),
            action_timeout: read(vars::ACTION_TIMEOUT, d.action_timeout),
            contact_call: read(vars::CONTACT_CALL, d.contact_call),
            recording_grace: read(vars::RECORDING_GRACE, d.recording_grace),
            workflow_announce: read(vars::WORKFLOW_ANNOUNCE, d.workflow_announce),
        };
        Self::from_seconds(&s)
    }

    /// The same limit for every state (`ops stuck --older-than`).
    pub fn uniform(limit: Duration) -> Self {
        Self { by_state: StuckState::ALL.into_iter().map(|s| (s, limit)).collect() }
    }

    pub fn get(&self, state: StuckState) -> Duration {
        self.by_state.get(&state).copied().unwrap_or_else(|| Duration::seconds(0))
    }

    pub fn iter(&self) -> impl Iterator<Item = (StuckState, Duration)> + '_ {
        self.by_state.iter().map(|(s, d)| (*s, *d))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn the_defaults_are_the_documented_ones() {
        let l = Limits::default();
        assert_eq!(l.get(StuckState::ReportOpen), Duration::minutes(15));
        assert_eq!(l.get(StuckState::ApprovalEmails), Duration::minutes(15));
        assert_eq!(l.get(StuckState::ApprovalEnqueue), Duration::minutes(10));
        assert_eq!(l.get(StuckState::ApprovalPickup), Duration::minutes(15));
        assert_eq!(l.get(StuckState::ApprovalExecuting), Duration::minutes(10), "the 300 s action timeout + 5 min");
        assert_eq!(l.get(StuckState::ContactCall), Duration::hours(4));
        assert_eq!(l.get(StuckState::ContactCheck), Duration::minutes(25), "900 s grace + two sweeps");
        assert_eq!(l.get(StuckState::WorkflowAnnounce), Duration::minutes(15));
    }

    #[test]
    fn the_environment_sets_them_and_the_derived_ones_follow_their_inputs() {
        let vars = HashMap::from([
            (vars::REPORT_OPEN.to_owned(), "60".to_owned()),
            (vars::ACTION_TIMEOUT.to_owned(), "600".to_owned()),
            (vars::RECORDING_GRACE.to_owned(), "3".to_owned()),
        ]);
        let mut env = Env::from_map(vars);
        let l = Limits::from_env(&mut env);
        env.finish().unwrap();
        assert_eq!(l.get(StuckState::ReportOpen), Duration::seconds(60));
        assert_eq!(l.get(StuckState::ApprovalExecuting), Duration::seconds(900));
        assert_eq!(l.get(StuckState::ContactCheck), Duration::seconds(603));
        assert_eq!(l.get(StuckState::WorkflowAnnounce), Duration::minutes(15), "unset: its default");
    }

    #[test]
    fn a_bad_value_is_named() {
        let vars = HashMap::from([
            (vars::CONTACT_CALL.to_owned(), "-5".to_owned()),
            (vars::APPROVAL_PICKUP.to_owned(), "soon".to_owned()),
        ]);
        let mut env = Env::from_map(vars);
        Limits::from_env(&mut env);
        let err = env.finish().unwrap_err().to_string();
        assert!(err.contains(vars::CONTACT_CALL) && err.contains(vars::APPROVAL_PICKUP), "{err}");
    }
}
