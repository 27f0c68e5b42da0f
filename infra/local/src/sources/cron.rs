//! Schedule expressions as EventBridge reads them: `cron(min hour dom month dow year)`,
//! `rate(N unit)` and Scheduler's one-off `at(yyyy-mm-ddThh:mm:ss)`, in UTC.

use std::collections::BTreeSet;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, TimeDelta, Timelike, Utc};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("{0:?} is not cron(...), rate(...) or at(...)")]
    Syntax(String),
    #[error("cron field {field}: {reason}")]
    Field { field: &'static str, reason: String },
    #[error("cron: one of day-of-month and day-of-week must be `?`")]
    DayConflict,
    #[error("rate: {0}")]
    Rate(String),
}

/// A parsed schedule expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScheduleExpression {
    Cron(Cron),
    Rate(Duration),
    At(DateTime<Utc>),
}

impl FromStr for ScheduleExpression {
    type Err = ScheduleError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let inner = |prefix: &str| text.strip_prefix(prefix).and_then(|rest| rest.strip_suffix(')')).map(str::trim);
        if let Some(body) = inner("cron(") {
            return Cron::parse(body).map(Self::Cron);
        }
        if let Some(body) = inner("rate(") {
            return parse_rate(body).map(Self::Rate);
        }
        if let Some(body) = inner("at(") {
            return NaiveDateTime::parse_from_str(body, "%Y-%m-%dT%H:%M:%S")
                .map(|t| Self::At(t.and_utc()))
                .map_err(|e| ScheduleError::Syntax(format!("{text}: {e}")));
        }
        Err(ScheduleError::Syntax(text.to_owned()))
    }
}

impl ScheduleExpression {
    /// The first firing strictly after `after`. Rates count from `anchor`
    /// (when the schedule was created, as EventBridge does).
    pub fn next_after(&self, after: DateTime<Utc>, anchor: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Self::Cron(cron) => cron.next_after(after),
            Self::Rate(interval) => {
                let step = TimeDelta::from_std(*interval).ok()?;
                if step <= TimeDelta::zero() {
                    return None;
                }
                if after < anchor {
                    return Some(anchor + step);
                }
                let elapsed = after - anchor;
                let periods = elapsed.num_milliseconds() / step.num_milliseconds() + 1;
                Some(anchor + step * i32::try_from(periods).ok()?)
            }
            Self::At(at) => (*at > after).then_some(*at),
        }
    }
}

fn parse_rate(body: &str) -> Result<Duration, ScheduleError> {
    let mut parts = body.split_whitespace();
    let (Some(value), Some(unit), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(ScheduleError::Rate(format!("expected `N unit`, got {body:?}")));
    };
    let n: u64 = value
        .parse()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| ScheduleError::Rate(format!("{value:?} is not a positive integer")))?;
    let unit_secs = match unit {
        "minute" | "minutes" => 60,
        "hour" | "hours" => 3600,
        "day" | "days" => 86_400,
        other => return Err(ScheduleError::Rate(format!("unknown unit {other:?}"))),
    };
    Ok(Duration::from_secs(n * unit_secs))
}

/// One cron field: the allowed values, or any (`?` in a day field).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Field(Option<BTreeSet<u32>>);

impl Field {
    fn allows(&self, value: u32) -> bool {
        self.0.as_ref().is_none_or(|set| set.contains(&value))
    }

    fn first_at_least(&self, value: u32, max: u32) -> Option<u32> {
        match &self.0 {
            None => (value <= max).then_some(value),
            Some(set) => set.range(value..).next().copied(),
        }
    }
}

/// `cron(minutes hours day-of-month month day-of-week year)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cron {
    minutes: Field,
    hours: Field,
    days_of_month: Field,
    months: Field,
    days_of_week: Field,
    years: Field,
}

const MONTHS: &[&str] = &["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const WEEKDAYS: &[&str] = &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

impl Cron {
    pub fn parse(body: &str) -> Result<Self, ScheduleError> {
        let fields: Vec<&str> = body.split_whitespace().collect();
        let [min, hour, dom, month, dow, year] = fields.as_slice() else {
            return Err(ScheduleError::Syntax(format!(
                "cron({body}) needs 6 fields: minutes hours day-of-month month day-of-week year"
            )));
        };
        let days_of_month = parse_field("day-of-month", dom, 1, 31, &[], true)?;
        let days_of_week = parse_field("day-of-week", dow, 1, 7, WEEKDAYS, true)?;
        if days_of_month.0.is_some() == days_of_week.0.is_some() {
            return Err(ScheduleError::DayConflict);
        }
        Ok(Self {
            minutes: parse_field("minutes", min, 0, 59, &[], false)?,
            hours: parse_field("hours", hour, 0, 23, &[], false)?,
            days_of_month,
            months: parse_field("month", month, 1, 12, MONTHS, false)?,
            days_of_week,
            years: parse_field("year", year, 1970, 2199, &[], false)?,
        })
    }

    fn day_matches(&self, date: NaiveDate) -> bool {
        self.years.allows(u32::try_from(date.year()).unwrap_or(0))
            && self.months.allows(date.month())
            && self.days_of_month.allows(date.day())
            && self.days_of_week.allows(date.weekday().num_days_from_sunday() + 1)
    }

    /// The first matching minute strictly after `after`.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let start =
            after.with_second(0).and_then(|t| t.with_nanosecond(0))?.checked_add_signed(TimeDelta::minutes(1))?;
        let mut date = start.date_naive();
        // Bounded: the year field cannot go past 2199.
        while date.year() <= 2199 {
            if self.day_matches(date) {
                let (h0, m0) = if date == start.date_naive() { (start.hour(), start.minute()) } else { (0, 0) };
                let mut hour = self.hours.first_at_least(h0, 23);
                while let Some(h) = hour {
                    let from = if h == h0 { m0 } else { 0 };
                    if let Some(m) = self.minutes.first_at_least(from, 59) {
                        return date.and_hms_opt(h, m, 0).map(|t| t.and_utc());
                    }
                    hour = self.hours.first_at_least(h + 1, 23);
                }
            }
            date = date.succ_opt()?;
        }
        None
    }
}

fn parse_field(
    field: &'static str,
    text: &str,
    min: u32,
    max: u32,
    names: &[&str],
    question_allowed: bool,
) -> Result<Field, ScheduleError> {
    let err = |reason: String| ScheduleError::Field { field, reason };
    if text == "?" {
        return if question_allowed {
            Ok(Field(None))
        } else {
            Err(err("`?` is only allowed in day-of-month and day-of-week".into()))
        };
    }
    if text.contains(['L', 'W', '#']) && !names.iter().any(|n| text.contains(n)) {
        return Err(err(format!("{text:?}: L, W and # are not supported locally")));
    }
    let value = |s: &str| -> Result<u32, ScheduleError> {
        let upper = s.to_ascii_uppercase();
        let parsed = match names.iter().position(|n| *n == upper) {
            Some(i) => u32::try_from(i).map(|i| i + 1).ok(),
            None => s.parse().ok(),
        };
        parsed.filter(|v| (min..=max).contains(v)).ok_or_else(|| err(format!("{s:?} is not in {min}..={max}")))
    };
    let mut set = BTreeSet::new();
    for part in text.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => {
                let step: u32 = s.parse().ok().filter(|s| *s > 0).ok_or_else(|| err(format!("bad step {s:?}")))?;
                (r, step)
            }
            None => (part, 1),
        };
        let (lo, hi) = if range == "*" {
            (min, max)
        } else if let Some((a, b)) = range.split_once('-') {
            (value(a)?, value(b)?)
        } else {
            let v = value(range)?;
            // `5/15` means from 5 to the end, every 15.
            (v, if part.contains('/') { max } else { v })
        };
        if lo > hi {
            return Err(err(format!("range {range:?} is backwards")));
        }
        set.extend((lo..=hi).step_by(step as usize));
    }
    Ok(Field(Some(set)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).single().expect("date")
    }

    fn next(expr: &str, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        expr.parse::<ScheduleExpression>().expect("parse").next_after(after, after)
    }

    #[test]
    fn every_five_minutes_fires_on_the_marks() {
        let e = "cron(0/5 * * * ? *)";
        assert_eq!(next(e, at(2026, 1, 1, 10, 2)), Some(at(2026, 1, 1, 10, 5)));
        assert_eq!(next(e, at(2026, 1, 1, 10, 5)), Some(at(2026, 1, 1, 10, 10)));
        assert_eq!(next(e, at(2026, 1, 1, 23, 58)), Some(at(2026, 1, 2, 0, 0)));
    }

    #[test]
    fn weekday_names_ranges_and_lists() {
        // 2026-01-02 is a Friday.
        let e = "cron(30 9 ? * MON-FRI *)";
        assert_eq!(next(e, at(2026, 1, 2, 10, 0)), Some(at(2026, 1, 5, 9, 30)));
        let e = "cron(0 8,20 ? * SUN *)";
        assert_eq!(next(e, at(2026, 1, 4, 9, 0)), Some(at(2026, 1, 4, 20, 0)));
    }

    #[test]
    fn day_of_month_month_and_year() {
        let e = "cron(15 12 1 JAN,JUL ? 2027)";
        assert_eq!(next(e, at(2026, 3, 1, 0, 0)), Some(at(2027, 1, 1, 12, 15)));
        assert_eq!(next(e, at(2027, 7, 1, 12, 15)), None);
        // The 31st only in months that have one.
        let e = "cron(0 0 31 * ? *)";
        assert_eq!(next(e, at(2026, 4, 1, 0, 0)), Some(at(2026, 5, 31, 0, 0)));
    }

    #[test]
    fn invalid_expressions_are_rejected() {
        for bad in [
            "cron(* * * * * *)",
            "cron(0 0 ? * ? *)",
            "cron(61 * * * ? *)",
            "cron(0 0 L * ? *)",
            "cron(0 0 * *)",
            "rate(0 minutes)",
            "rate(5 weeks)",
            "every 5 minutes",
        ] {
            assert!(bad.parse::<ScheduleExpression>().is_err(), "{bad} should fail");
        }
    }

    #[test]
    fn rates_count_from_the_anchor() {
        let e: ScheduleExpression = "rate(5 minutes)".parse().expect("parse");
        let anchor = at(2026, 1, 1, 10, 2);
        assert_eq!(e.next_after(anchor, anchor), Some(at(2026, 1, 1, 10, 7)));
        assert_eq!(e.next_after(at(2026, 1, 1, 10, 7), anchor), Some(at(2026, 1, 1, 10, 12)));
        assert_eq!("rate(1 hour)".parse(), Ok(ScheduleExpression::Rate(Duration::from_secs(3600))));
    }

    #[test]
    fn one_off_at() {
        let e: ScheduleExpression = "at(2026-02-03T04:05:06)".parse().expect("parse");
        let when = Utc.with_ymd_and_hms(2026, 2, 3, 4, 5, 6).single().expect("date");
        assert_eq!(e.next_after(at(2026, 1, 1, 0, 0), at(2026, 1, 1, 0, 0)), Some(when));
        assert_eq!(e.next_after(when, when), None);
    }
}
