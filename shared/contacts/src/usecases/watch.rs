//! The flow-log watch: Connect writes flow logs only while a flow's logging is on
//! (the "Set logging behavior" block), so a flow without it, a subscription filter
//! removed, or a log group renamed leaves calls silently unwatched. Every delivery
//! notes the time on a heartbeat; during business hours (the watch's schedule,
//! in the business's time zone, fires only then) the watch reports the
//! subscription silent once nothing has arrived for `silence`.
//!
//! The first watch of a day starts a new watching window: the quiet night before
//! does not count, so the alarm cannot fire at opening time, only `silence` after.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tracing::{info, warn};

use crate::error::ContactError;
use crate::ports::{FlowLogHeartbeat, Heartbeat};
use crate::time::render;

/// A watch this long after the previous one starts a new window (the schedule
/// fires every five minutes while it runs: three missed firings mean a new day).
pub const NEW_WINDOW_GAP: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WatchSettings {
    /// How long without a delivery, within watching hours, counts as silent.
    pub silence: Duration,
}

/// What a watch found (the invocation's response, and its log line).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WatchReport {
    pub silent: bool,
    pub last_delivery_at: Option<String>,
    pub watching_since: String,
    /// How long nothing has arrived, counted from the window's start at the earliest.
    pub quiet_for_secs: u64,
    pub silence_secs: u64,
}

/// The verdict over the heartbeat (pure).
pub fn judge(heartbeat: &Heartbeat, now: DateTime<Utc>, settings: &WatchSettings) -> (bool, DateTime<Utc>, Duration) {
    let gap = chrono::Duration::from_std(settings.silence.max(NEW_WINDOW_GAP)).unwrap_or(chrono::Duration::MAX);
    let continuing = heartbeat.last_watch_at.is_some_and(|last| last <= now && now - last <= gap);
    let watching_since = match heartbeat.watching_since {
        Some(since) if continuing && since <= now => since,
        _ => now,
    };
    let quiet_since = heartbeat.last_delivery_at.map_or(watching_since, |last| last.max(watching_since));
    let quiet_for = (now - quiet_since).to_std().unwrap_or_default();
    (quiet_for >= settings.silence, watching_since, quiet_for)
}

pub async fn watch_flow_logs<H: FlowLogHeartbeat>(
    heartbeat: &H,
    settings: &WatchSettings,
    now: DateTime<Utc>,
) -> Result<WatchReport, ContactError> {
    let beat = heartbeat.heartbeat().await?;
    let (silent, watching_since, quiet_for) = judge(&beat, now, settings);
    heartbeat.watched(now, watching_since).await?;
    crate::metrics::flow_logs_silent(silent);
    let report = WatchReport {
        silent,
        last_delivery_at: beat.last_delivery_at.map(render),
        watching_since: render(watching_since),
        quiet_for_secs: quiet_for.as_secs(),
        silence_secs: settings.silence.as_secs(),
    };
    if silent {
        warn!(
            last_delivery_at = report.last_delivery_at.as_deref().unwrap_or("never"),
            quiet_for_secs = report.quiet_for_secs,
            "no Connect flow logs delivered for longer than the silence threshold: calls may be unwatched"
        );
    } else {
        info!(quiet_for_secs = report.quiet_for_secs, "flow logs arriving");
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, h, m, 0).single().unwrap()
    }

    const THIRTY: WatchSettings = WatchSettings { silence: Duration::from_secs(1800) };

    #[test]
    fn silent_after_the_threshold_without_a_delivery() {
        let beat = Heartbeat {
            last_delivery_at: Some(at(9, 0)),
            last_watch_at: Some(at(9, 25)),
            watching_since: Some(at(8, 0)),
        };
        assert!(!judge(&beat, at(9, 29), &THIRTY).0);
        let (silent, since, quiet) = judge(&beat, at(9, 30), &THIRTY);
        assert!(silent);
        assert_eq!((since, quiet.as_secs()), (at(8, 0), 1800));
    }

    #[test]
    fn the_first_watch_of_the_day_starts_a_new_window() {
        // Last delivery and last watch yesterday evening.
        let beat = Heartbeat {
            last_delivery_at: Some(at(17, 0) - chrono::Duration::days(1)),
            last_watch_at: Some(at(17, 55) - chrono::Duration::days(1)),
            watching_since: Some(at(8, 0) - chrono::Duration::days(1)),
        };
        let (silent, since, _) = judge(&beat, at(8, 0), &THIRTY);
        assert!(!silent, "not at opening time");
        assert_eq!(since, at(8, 0));
        let next = Heartbeat { last_watch_at: Some(at(8, 25)), watching_since: Some(since), ..beat };
        assert!(!judge(&next, at(8, 29), &THIRTY).0);
        assert!(judge(&next, at(8, 30), &THIRTY).0, "silent half an hour into the day");
    }

    #[test]
    fn never_delivered_counts_from_the_window() {
        let (silent, since, _) = judge(&Heartbeat::default(), at(10, 0), &THIRTY);
        assert!(!silent);
        assert_eq!(since, at(10, 0));
    }
}
