//! The contact's state machine: the seed's five states plus CLOSED, the rules that
//! map a DescribeContact view to a state, and the order that keeps updates forward-only.

use std::fmt;

use crate::view::ContactView;

/// The seed's `State` field (its exact strings are what the table and API hold).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContactState {
    /// Recording/analytics behaviour was set in a flow; Connect not asked yet.
    Initialised,
    InProgressQueue,
    InProgressAgent,
    /// Ended without reaching an agent: nothing to record; the sweep deletes it.
    CompletedQueue,
    /// Ended after talking to an agent: the recording bucket is checked.
    CompletedAgent,
    /// Connect no longer knows the contact (ResourceNotFound): closed with a reason,
    /// never polled again. Not one of the seed's states.
    Closed,
}

impl ContactState {
    pub const ALL: [ContactState; 6] = [
        ContactState::Initialised,
        ContactState::InProgressQueue,
        ContactState::InProgressAgent,
        ContactState::CompletedQueue,
        ContactState::CompletedAgent,
        ContactState::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ContactState::Initialised => "INITIALISED",
            ContactState::InProgressQueue => "IN_PROGRESS - QUEUE/IVR",
            ContactState::InProgressAgent => "IN_PROGRESS - AGENT",
            ContactState::CompletedQueue => "COMPLETED - QUEUE/IVR",
            ContactState::CompletedAgent => "COMPLETED - AGENT",
            ContactState::Closed => "CLOSED",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// The forward-only order: an update may only raise the rank. Both COMPLETED
    /// states share a rank, so one can never replace the other.
    pub fn rank(self) -> u8 {
        match self {
            ContactState::Initialised => 0,
            ContactState::InProgressQueue => 1,
            ContactState::InProgressAgent => 2,
            ContactState::CompletedQueue | ContactState::CompletedAgent => 3,
            ContactState::Closed => 4,
        }
    }

    /// Whether `self` may become `next`.
    pub fn may_become(self, next: ContactState) -> bool {
        next.rank() > self.rank()
    }

    /// States Connect must still be asked about.
    pub fn needs_polling(self) -> bool {
        matches!(self, ContactState::Initialised | ContactState::InProgressQueue | ContactState::InProgressAgent)
    }

    /// The seed's rules, over what DescribeContact said.
    pub fn from_view(view: &ContactView) -> Self {
        match (view.spoke_to_agent(), view.disconnected_at.is_some()) {
            (true, true) => ContactState::CompletedAgent,
            (true, false) => ContactState::InProgressAgent,
            (false, true) => ContactState::CompletedQueue,
            (false, false) => ContactState::InProgressQueue,
        }
    }
}

impl fmt::Display for ContactState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The seed's `RecordingState` field, set once: the seed's two outcomes of a
/// completed agent call, plus ours for calls no recording is expected of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordingState {
    Recorded,
    Missing,
    /// A completed agent call whose flow had recording off when the agent
    /// connected (switched off, or never on): no recording to look for, no alert.
    NotExpected,
    /// Not a voice contact (a chat or task through a shared flow): never checked.
    NotApplicable,
}

impl RecordingState {
    pub const ALL: [RecordingState; 4] =
        [RecordingState::Recorded, RecordingState::Missing, RecordingState::NotExpected, RecordingState::NotApplicable];

    pub fn as_str(self) -> &'static str {
        match self {
            RecordingState::Recorded => "CALL_RECORDED_SUCCESS",
            RecordingState::Missing => "CALL_RECORDED_FAILURE",
            RecordingState::NotExpected => "RECORDING_NOT_EXPECTED",
            RecordingState::NotApplicable => "RECORDING_NOT_APPLICABLE",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

impl fmt::Display for RecordingState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn view(agent: bool, disconnected: bool) -> ContactView {
        let t = Utc.with_ymd_and_hms(2023, 8, 29, 10, 30, 0).single();
        ContactView {
            channel: None,
            initiated_at: t,
            agent_connected_at: if agent { t } else { None },
            disconnected_at: if disconnected { t } else { None },
        }
    }

    #[test]
    fn the_seeds_four_rules() {
        assert_eq!(ContactState::from_view(&view(true, true)), ContactState::CompletedAgent);
        assert_eq!(ContactState::from_view(&view(true, false)), ContactState::InProgressAgent);
        assert_eq!(ContactState::from_view(&view(false, true)), ContactState::CompletedQueue);
        assert_eq!(ContactState::from_view(&view(false, false)), ContactState::InProgressQueue);
    }

    #[test]
    fn states_only_move_forward() {
        use ContactState::*;
        assert!(Initialised.may_become(InProgressQueue));
        assert!(InProgressQueue.may_become(InProgressAgent));
        assert!(InProgressAgent.may_become(CompletedAgent));
        assert!(Initialised.may_become(CompletedQueue));
        assert!(!InProgressAgent.may_become(InProgressQueue));
        assert!(!CompletedAgent.may_become(InProgressAgent));
        assert!(!CompletedAgent.may_become(CompletedQueue), "one completion never replaces the other");
        assert!(!CompletedQueue.may_become(CompletedAgent));
        assert!(!InProgressAgent.may_become(InProgressAgent), "the same state is not a move");
        assert!(CompletedAgent.may_become(Closed) && !Closed.may_become(CompletedAgent));
    }

    #[test]
    fn names_round_trip() {
        for s in ContactState::ALL {
            assert_eq!(ContactState::parse(s.as_str()), Some(s));
        }
        for s in RecordingState::ALL {
            assert_eq!(RecordingState::parse(s.as_str()), Some(s));
        }
        assert_eq!(RecordingState::parse("CALL_RECORDED_FAILURE"), Some(RecordingState::Missing));
        assert_eq!(ContactState::parse("in_progress"), None);
    }
}
