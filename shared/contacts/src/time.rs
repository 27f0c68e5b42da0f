//! One timestamp format for everything stored: fixed width, so strings sort as times
//! (the recording-state index's range key depends on it).

use chrono::{DateTime, SecondsFormat, Utc};

/// `2023-08-29T10:30:11.038Z`.
pub fn render(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Reads any RFC 3339 time (what we stored, or what a caller sent).
pub fn parse(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text.trim()).ok().map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_fixed_width_and_reads_back() {
        let t = parse("2023-08-29T10:30:11Z").unwrap();
        assert_eq!(render(t), "2023-08-29T10:30:11.000Z");
        assert_eq!(parse(&render(t)), Some(t));
        assert_eq!(parse("2023-08-29T12:30:11+02:00"), Some(t));
        assert_eq!(parse("yesterday"), None);
    }
}
