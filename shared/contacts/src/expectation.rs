//! Whether a call should have a recording: every recording setting its flows made,
//! ordered by the flow log's own timestamps (log batches arrive in any order, so the
//! settings are kept as a set and ordered only when the question is asked), read
//! against the moment the agent connected.
//!
//! The rule: the setting in force when the agent connected decides. A flow that
//! enables recording and later turns it off (a customer opting out in the IVR) has
//! no recording to find. A setting that turns recording on only after the agent
//! connected (the agent whisper flow) still counts, because Connect starts recording
//! from then on; one that turns it off after the agent connected does not stop the
//! expectation.

use chrono::{DateTime, SubsecRound as _, Utc};

use crate::time::{parse, render};

/// One run of a block that sets recording behaviour, as the flow log showed it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RecordingSetting {
    /// When the block ran (the log line's `Timestamp`).
    pub at: DateTime<Utc>,
    /// Who is recorded (`Agent`, `Customer`), sorted; empty when the block turned
    /// recording off. (At equal times an enabling setting sorts last, so it wins.)
    pub participants: Vec<String>,
    /// Contact Lens analytics asked for too.
    pub analytics: bool,
}

impl RecordingSetting {
    pub fn records(&self) -> bool {
        !self.participants.is_empty()
    }

    /// The stored form, `{at}|{participants,…}|{A or -}`: a string-set member, so
    /// adding the same setting twice (a replayed delivery) changes nothing.
    pub fn encode(&self) -> String {
        format!("{}|{}|{}", render(self.at), self.participants.join(","), if self.analytics { "A" } else { "-" })
    }

    pub fn decode(text: &str) -> Option<Self> {
        let mut parts = text.split('|');
        let at = parse(parts.next()?)?;
        let participants: Vec<String> = parts.next()?.split(',').filter(|p| !p.is_empty()).map(str::to_owned).collect();
        let analytics = match parts.next()? {
            "A" => true,
            "-" => false,
            _ => return None,
        };
        if parts.next().is_some() {
            return None;
        }
        Some(Self::new(at, participants, analytics))
    }

    /// `at` is kept to the millisecond, the precision of the stored form: a line
    /// timed to the microsecond, delivered again, is then the setting already held
    /// (not one "gained", which would count a replay as an update).
    pub fn new(at: DateTime<Utc>, mut participants: Vec<String>, analytics: bool) -> Self {
        participants.sort();
        participants.dedup();
        Self { at: at.trunc_subsecs(3), participants, analytics }
    }
}

/// Every setting seen for one contact, oldest first, each once.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RecordingSettings(Vec<RecordingSetting>);

impl RecordingSettings {
    pub fn new(settings: impl IntoIterator<Item = RecordingSetting>) -> Self {
        let mut all = Self::default();
        all.extend(settings);
        all
    }

    pub fn extend(&mut self, settings: impl IntoIterator<Item = RecordingSetting>) {
        self.0.extend(settings);
        self.0.sort();
        self.0.dedup();
    }

    pub fn iter(&self) -> std::slice::Iter<'_, RecordingSetting> {
        self.0.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether any setting asked for a recording: only such a contact is watched
    /// (a contact whose flows only ever turned recording off is kept, in case an
    /// enabling setting arrives in a later batch, but never polled).
    pub fn any_records(&self) -> bool {
        self.0.iter().any(RecordingSetting::records)
    }

    /// The settings not already held.
    pub fn missing_from<'a>(&'a self, held: &'a RecordingSettings) -> impl Iterator<Item = &'a RecordingSetting> {
        self.0.iter().filter(move |s| !held.0.contains(s))
    }

    /// The latest setting made at or before `t`.
    pub fn in_force_at(&self, t: DateTime<Utc>) -> Option<&RecordingSetting> {
        self.0.iter().rev().find(|s| s.at <= t)
    }

    /// The first enabling setting, for display ("what the flow asked for").
    pub fn first_enabling(&self) -> Option<&RecordingSetting> {
        self.0.iter().find(|s| s.records())
    }
}

/// What a completed agent call should have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expectation {
    /// A recording should exist: the setting that asked for it.
    Recorded(RecordingSetting),
    /// No recording is expected, and why.
    NotRecorded(NotRecordedBecause),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotRecordedBecause {
    /// Recording was on earlier in the flow, then turned off before the agent connected.
    SwitchedOff,
    /// No setting enabled recording before the agent connected, or during the call.
    NeverEnabled,
}

impl NotRecordedBecause {
    pub fn as_str(self) -> &'static str {
        match self {
            NotRecordedBecause::SwitchedOff => "recording switched off before the agent connected",
            NotRecordedBecause::NeverEnabled => "recording never enabled while the agent was on the call",
        }
    }
}

/// The rule above, over what the flow logs and DescribeContact said. Without an
/// agent connection time (not a completed agent call) the latest setting decides.
pub fn expectation(
    settings: &RecordingSettings,
    agent_connected_at: Option<DateTime<Utc>>,
    disconnected_at: Option<DateTime<Utc>>,
) -> Expectation {
    let Some(connected) = agent_connected_at else {
        return match settings.iter().next_back() {
            Some(last) if last.records() => Expectation::Recorded(last.clone()),
            Some(_) => Expectation::NotRecorded(NotRecordedBecause::SwitchedOff),
            None => Expectation::NotRecorded(NotRecordedBecause::NeverEnabled),
        };
    };
    let at_connection = settings.in_force_at(connected);
    if let Some(setting) = at_connection.filter(|s| s.records()) {
        return Expectation::Recorded(setting.clone());
    }
    // Turned on while the agent was on the call (a whisper flow): recorded from then.
    let during_call = settings
        .iter()
        .filter(|s| s.at > connected && disconnected_at.is_none_or(|end| s.at <= end))
        .find(|s| s.records());
    if let Some(setting) = during_call {
        return Expectation::Recorded(setting.clone());
    }
    let because = if settings.iter().any(|s| s.at <= connected && s.records()) {
        NotRecordedBecause::SwitchedOff
    } else {
        NotRecordedBecause::NeverEnabled
    };
    Expectation::NotRecorded(because)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(min: u32, sec: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2023, 8, 29, 10, min, sec).single().unwrap()
    }

    fn on(t: DateTime<Utc>) -> RecordingSetting {
        RecordingSetting::new(t, vec!["Customer".into(), "Agent".into()], false)
    }

    fn off(t: DateTime<Utc>) -> RecordingSetting {
        RecordingSetting::new(t, vec![], false)
    }

    #[test]
    fn a_setting_round_trips_its_stored_form() {
        let s = RecordingSetting::new(at(29, 58), vec!["Customer".into(), "Agent".into()], true);
        assert_eq!(s.encode(), "2023-08-29T10:29:58.000Z|Agent,Customer|A");
        assert_eq!(RecordingSetting::decode(&s.encode()), Some(s));
        assert_eq!(RecordingSetting::decode(&off(at(1, 0)).encode()), Some(off(at(1, 0))));
        let fine = at(29, 58) + chrono::Duration::nanoseconds(123_456_789);
        let s = on(fine);
        assert_eq!(s.encode(), "2023-08-29T10:29:58.123Z|Agent,Customer|-");
        assert_eq!(RecordingSetting::decode(&s.encode()), Some(s.clone()), "a sub-millisecond time is kept as stored");
        let held = RecordingSettings::new(RecordingSetting::decode(&s.encode()));
        assert_eq!(RecordingSettings::new([on(fine)]).missing_from(&held).count(), 0, "a replay gains nothing");
        for bad in ["", "x|Agent|A", "2023-08-29T10:29:58Z|Agent|yes", "2023-08-29T10:29:58Z|Agent|A|more"] {
            assert_eq!(RecordingSetting::decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn enabled_then_switched_off_before_the_agent_is_not_expected() {
        let settings = RecordingSettings::new([on(at(30, 0)), off(at(30, 20))]);
        assert_eq!(
            expectation(&settings, Some(at(31, 0)), Some(at(33, 0))),
            Expectation::NotRecorded(NotRecordedBecause::SwitchedOff)
        );
    }

    #[test]
    fn the_order_settings_arrive_in_does_not_matter() {
        let one = RecordingSettings::new([off(at(30, 20)), on(at(30, 0))]);
        let other = RecordingSettings::new([on(at(30, 0)), off(at(30, 20)), on(at(30, 0))]);
        assert_eq!(one, other);
        assert_eq!(one.len(), 2);
    }

    #[test]
    fn the_setting_in_force_when_the_agent_connected_decides() {
        // Off, then on again before the agent: expected.
        let settings = RecordingSettings::new([on(at(30, 0)), off(at(30, 10)), on(at(30, 20))]);
        assert_eq!(expectation(&settings, Some(at(31, 0)), Some(at(33, 0))), Expectation::Recorded(on(at(30, 20))));
        // Switched off only after the agent connected: the recording had started.
        let settings = RecordingSettings::new([on(at(30, 0)), off(at(32, 0))]);
        assert_eq!(expectation(&settings, Some(at(31, 0)), Some(at(33, 0))), Expectation::Recorded(on(at(30, 0))));
    }

    #[test]
    fn enabled_during_the_call_counts_from_then() {
        let settings = RecordingSettings::new([off(at(30, 0)), on(at(31, 5))]);
        assert_eq!(expectation(&settings, Some(at(31, 0)), Some(at(33, 0))), Expectation::Recorded(on(at(31, 5))));
        // ...but not after the call ended.
        let late = RecordingSettings::new([on(at(40, 0))]);
        assert_eq!(
            expectation(&late, Some(at(31, 0)), Some(at(33, 0))),
            Expectation::NotRecorded(NotRecordedBecause::NeverEnabled)
        );
    }

    #[test]
    fn at_equal_times_enabling_wins() {
        let settings = RecordingSettings::new([on(at(30, 0)), off(at(30, 0))]);
        assert_eq!(settings.in_force_at(at(30, 0)), Some(&on(at(30, 0))));
    }
}
