//! One rendering of instants for everything stored, hashed and indexed: RFC 3339,
//! UTC, always six fractional digits. Fixed width, so strings sort as times (the
//! index range queries rely on it) and a stored time re-renders byte for byte (the
//! hash chain relies on it).

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};

/// `t` cut to whole microseconds: what the renderer can represent exactly.
pub fn stamp(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(6)
}

/// `2024-06-01T12:00:00.000000Z`.
pub fn render(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// An RFC 3339 instant in any offset, as UTC.
pub fn parse(raw: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(raw.trim()).ok().map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_fixed_width_and_round_trips() {
        let t: DateTime<Utc> = "2024-06-01T12:00:00.123456789Z".parse().unwrap();
        let s = render(stamp(t));
        assert_eq!(s, "2024-06-01T12:00:00.123456Z");
        assert_eq!(render(parse(&s).unwrap()), s);
        assert_eq!(render("2024-06-01T12:00:00Z".parse().unwrap()), "2024-06-01T12:00:00.000000Z");
        assert_eq!(parse("2024-06-01T13:00:00+01:00").map(render).unwrap(), "2024-06-01T12:00:00.000000Z");
        assert!(parse("yesterday").is_none());
    }
}
