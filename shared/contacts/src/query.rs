//! The operations team's listing query (`GET /contacts?recording_state&from&to&limit&next`),
//! parsed: every refusal says which parameter is wrong, never what was sent.

use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;

use crate::dynamo::Cursor;
use crate::state::RecordingState;
use crate::time::parse;

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 100;

/// The query string as received (every value optional, empty meaning absent).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ListQuery {
    pub recording_state: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub limit: Option<String>,
    pub next: Option<String>,
}

/// What to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    pub recording_state: RecordingState,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub limit: u32,
    pub after: Option<Cursor>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidQuery(String);

fn given(raw: &Option<String>) -> Option<&str> {
    raw.as_deref().filter(|s| !s.is_empty())
}

impl ListQuery {
    /// Checked calls with this recording state (default CALL_RECORDED_FAILURE: the
    /// question the operations team asks most), `from` a day before `now` and `to`
    /// `now` unless given.
    pub fn parse(&self, now: DateTime<Utc>) -> Result<Listing, InvalidQuery> {
        let recording_state = match given(&self.recording_state) {
            None => RecordingState::Missing,
            Some(raw) => RecordingState::parse(raw).ok_or_else(|| {
                let names: Vec<&str> = RecordingState::ALL.iter().map(|s| s.as_str()).collect();
                InvalidQuery(format!("recording_state must be one of {}", names.join(", ")))
            })?,
        };
        let time = |name: &str, raw: &Option<String>, default| match given(raw) {
            None => Ok(default),
            Some(text) => parse(text).ok_or_else(|| InvalidQuery(format!("{name} must be an RFC 3339 time"))),
        };
        let from = time("from", &self.from, now - Duration::days(1))?;
        let to = time("to", &self.to, now)?;
        if to < from {
            return Err(InvalidQuery("to must not be before from".into()));
        }
        let limit = match given(&self.limit) {
            None => DEFAULT_LIMIT,
            Some(raw) => match raw.parse::<u32>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
                _ => return Err(InvalidQuery(format!("limit must be a whole number from 1 to {MAX_LIMIT}"))),
            },
        };
        let after = given(&self.next).map(Cursor::decode).transpose().map_err(|e| InvalidQuery(e.to_string()))?;
        Ok(Listing { recording_state, from, to, limit, after })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2026-01-02T00:00:00Z".parse().unwrap()
    }

    #[test]
    fn defaults_to_the_last_days_missing_recordings() {
        let got = ListQuery::default().parse(now()).unwrap();
        assert_eq!(got.recording_state, RecordingState::Missing);
        assert_eq!((got.from, got.to, got.limit, got.after), (now() - Duration::days(1), now(), DEFAULT_LIMIT, None));
    }

    #[test]
    fn each_bad_parameter_is_named() {
        let q = |f: fn(&mut ListQuery)| {
            let mut q = ListQuery::default();
            f(&mut q);
            q.parse(now()).unwrap_err().to_string()
        };
        assert!(q(|q| q.recording_state = Some("x".into())).starts_with("recording_state"));
        assert!(q(|q| q.from = Some("yesterday".into())).starts_with("from"));
        assert!(q(|q| q.to = Some("2020-01-01T00:00:00Z".into())).starts_with("to must not"));
        assert!(q(|q| q.limit = Some("0".into())).starts_with("limit"));
        assert!(q(|q| q.next = Some("!!".into())).starts_with("next"));
    }
}
