//! Where Connect puts a call recording, and when a missing one counts as missing.
//!
//! Connect writes each recording as
//! `{prefix}/{yyyy}/{mm}/{dd}/{contactId}_{yyyymmddThh:mm}_UTC.wav`, the prefix being
//! the instance's storage setting (`connect/{alias}/CallRecordings`) and the date
//! the recording's (UTC). A call that crosses midnight can be filed under either
//! day, so every day the call touched is listed under its contact-id prefix.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::contact::Contact;

/// The key prefixes a contact's recording can be under (one per UTC day the call
/// touched, oldest first).
pub fn candidate_prefixes(prefix: &str, contact: &Contact) -> Vec<String> {
    let prefix = prefix.trim_matches('/');
    let mut days: Vec<String> = [contact.initiated_at, contact.agent_connected_at, contact.disconnected_at]
        .into_iter()
        .flatten()
        .chain(std::iter::once(contact.ended_at()))
        .map(|t| t.format("%Y/%m/%d").to_string())
        .collect();
    days.sort();
    days.dedup();
    days.into_iter()
        .map(|day| {
            if prefix.is_empty() {
                format!("{day}/{}_", contact.contact_id)
            } else {
                format!("{prefix}/{day}/{}_", contact.contact_id)
            }
        })
        .collect()
}

/// The key Connect would write for a recording stored at `at` (the fake, the demo
/// and tests put recordings where the real service would).
pub fn recording_key(prefix: &str, contact_id: &str, at: DateTime<Utc>) -> String {
    let prefix = prefix.trim_matches('/');
    let file = format!("{}/{contact_id}_{}_UTC.wav", at.format("%Y/%m/%d"), at.format("%Y%m%dT%H:%M"));
    if prefix.is_empty() {
        file
    } else {
        format!("{prefix}/{file}")
    }
}

/// What a check of the bucket concludes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Recorded {
        key: String,
    },
    /// Not there yet, but recordings arrive minutes after the call: look again at the next sweep.
    TooEarly {
        missing_since: Duration,
    },
    Missing,
}

/// Recordings land after the call ends; until `grace` has passed since then,
/// an empty listing is not a failure.
pub fn verdict(found: Option<String>, ended_at: DateTime<Utc>, now: DateTime<Utc>, grace: Duration) -> Verdict {
    if let Some(key) = found {
        return Verdict::Recorded { key };
    }
    let since = (now - ended_at).to_std().unwrap_or_default();
    if since < grace {
        Verdict::TooEarly { missing_since: since }
    } else {
        Verdict::Missing
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow_log::FlowRecordingSetting;
    use crate::{ContactId, InstanceId};
    use chrono::TimeZone;

    fn contact(start: DateTime<Utc>, end: DateTime<Utc>) -> Contact {
        let requested = FlowRecordingSetting {
            contact_id: ContactId::parse("955c07e1-af64-4094-9c16-c59995ecdcbe").unwrap(),
            instance_id: InstanceId::parse("bd7c61d1-6722-4b4f-8c9c-6253e5a85c32").unwrap(),
            at: None,
            participants: vec!["Agent".into()],
            analytics: false,
        };
        let mut c = Contact::initialised(requested, start);
        c.initiated_at = Some(start);
        c.agent_connected_at = Some(start);
        c.disconnected_at = Some(end);
        c
    }

    fn at(d: u32, h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2023, 8, d, h, m, 0).single().unwrap()
    }

    #[test]
    fn the_prefix_follows_connects_layout() {
        let c = contact(at(29, 10, 29), at(29, 10, 31));
        assert_eq!(
            candidate_prefixes("/connect/example/CallRecordings/", &c),
            ["connect/example/CallRecordings/2023/08/29/955c07e1-af64-4094-9c16-c59995ecdcbe_"]
        );
        let key = recording_key("connect/example/CallRecordings", c.contact_id.as_str(), at(29, 10, 31));
        assert_eq!(
            key,
            "connect/example/CallRecordings/2023/08/29/955c07e1-af64-4094-9c16-c59995ecdcbe_20230829T10:31_UTC.wav"
        );
        assert!(key.starts_with(&candidate_prefixes("connect/example/CallRecordings", &c)[0]));
    }

    #[test]
    fn a_call_across_midnight_is_looked_for_under_both_days() {
        let c = contact(at(29, 23, 58), at(30, 0, 3));
        let prefixes = candidate_prefixes("r", &c);
        assert_eq!(prefixes.len(), 2);
        assert!(prefixes[0].starts_with("r/2023/08/29/") && prefixes[1].starts_with("r/2023/08/30/"));
    }

    #[test]
    fn missing_only_after_the_grace_period() {
        let grace = Duration::from_secs(600);
        let end = at(29, 10, 31);
        assert_eq!(verdict(Some("k".into()), end, at(29, 12, 0), grace), Verdict::Recorded { key: "k".into() });
        assert!(matches!(verdict(None, end, at(29, 10, 35), grace), Verdict::TooEarly { .. }));
        assert_eq!(verdict(None, end, at(29, 10, 41), grace), Verdict::Missing);
    }
}
