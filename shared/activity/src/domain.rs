//! Login events and what they become, parsed at the edge so the rest cannot see
//! invalid data ("parse, don't validate").

use std::fmt;

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The body on the `login-events` queue: seed 001's shape, plus optional ids.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RawLoginEvent {
    pub user_id: String,
    pub service_id: String,
    pub service_name: String,
    pub timestamp: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidLoginEvent {
    #[error("{field} is empty")]
    Empty { field: &'static str },
    #[error("{field} is longer than {max} characters")]
    TooLong { field: &'static str, max: usize },
    #[error("{field} contains whitespace or control characters")]
    BadCharacters { field: &'static str },
    #[error("timestamp is not an RFC 3339 date-time")]
    BadTimestamp,
    #[error("timestamp is more than {hours} hours in the future")]
    FutureTimestamp { hours: i64 },
}

/// Clocks drift, but a login a day ahead would pin `last_accessed` forever.
const MAX_FUTURE_HOURS: i64 = 24;

fn identifier(field: &'static str, value: &str, max: usize) -> Result<String, InvalidLoginEvent> {
    if value.is_empty() {
        return Err(InvalidLoginEvent::Empty { field });
    }
    if value.chars().count() > max {
        return Err(InvalidLoginEvent::TooLong { field, max });
    }
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(InvalidLoginEvent::BadCharacters { field });
    }
    Ok(value.to_owned())
}

macro_rules! id_newtype {
    ($name:ident, $field:literal, $max:literal) => {
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn parse(value: &str) -> Result<Self, InvalidLoginEvent> {
                identifier($field, value, $max).map(Self)
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_newtype!(UserId, "user_id", 256);
id_newtype!(ServiceId, "service_id", 128);
id_newtype!(EventId, "event_id", 128);

/// A validated login.
#[derive(Debug, Clone, PartialEq)]
pub struct LoginEvent {
    pub user_id: UserId,
    pub service_id: ServiceId,
    pub service_name: String,
    pub timestamp: DateTime<Utc>,
    pub event_id: EventId,
    pub session_id: Option<String>,
}

impl LoginEvent {
    /// Validates `raw` as of `now`. Without an `event_id` one is derived from the
    /// content, so a redelivered copy gets the same id and changes nothing.
    pub fn parse(raw: RawLoginEvent, now: DateTime<Utc>) -> Result<Self, InvalidLoginEvent> {
        let user_id = UserId::parse(&raw.user_id)?;
        let service_id = ServiceId::parse(&raw.service_id)?;
        let service_name = raw.service_name.trim().to_owned();
        if service_name.is_empty() {
            return Err(InvalidLoginEvent::Empty { field: "service_name" });
        }
        if service_name.chars().count() > 256 {
            return Err(InvalidLoginEvent::TooLong { field: "service_name", max: 256 });
        }
        let timestamp = DateTime::parse_from_rfc3339(raw.timestamp.trim())
            .map_err(|_| InvalidLoginEvent::BadTimestamp)?
            .with_timezone(&Utc);
        if timestamp > now + Duration::hours(MAX_FUTURE_HOURS) {
            return Err(InvalidLoginEvent::FutureTimestamp { hours: MAX_FUTURE_HOURS });
        }
        let session_id = match raw.session_id.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(s) => Some(identifier("session_id", s, 256)?),
        };
        let event_id = match raw.event_id.as_deref().map(str::trim) {
            None | Some("") => derive_event_id(&user_id, &service_id, timestamp, session_id.as_deref()),
            Some(id) => EventId::parse(id)?,
        };
        Ok(Self { user_id, service_id, service_name, timestamp, event_id, session_id })
    }
}

impl LoginEvent {
    /// Hash of the event's content (not its id): two deliveries of one event agree,
    /// an id reused for another login does not.
    pub fn content_hash(&self) -> String {
        let mut h = Sha256::new();
        for part in [
            "login-content/v1",
            self.user_id.as_str(),
            self.service_id.as_str(),
            &self.service_name,
            &self.timestamp.to_rfc3339_opts(SecondsFormat::Nanos, true),
            self.session_id.as_deref().unwrap_or(""),
        ] {
            h.update(part.as_bytes());
            h.update([0u8]);
        }
        hex::encode(&h.finalize()[..16])
    }
}

/// A deterministic id from what identifies a login: user, service, instant, session.
fn derive_event_id(user: &UserId, service: &ServiceId, at: DateTime<Utc>, session: Option<&str>) -> EventId {
    let mut h = Sha256::new();
    for part in [
        "login-event/v1",
        user.as_str(),
        service.as_str(),
        &at.to_rfc3339_opts(SecondsFormat::Nanos, true),
        session.unwrap_or(""),
    ] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    EventId(format!("d-{}", &hex::encode(h.finalize())[..32]))
}

/// Renders an instant the way seed 001 shows it (`2022-08-04T08:50:39Z`), keeping
/// sub-second digits only when there are some.
pub fn render_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// One entry of a user's services list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceEntry {
    pub service_id: String,
    pub service_name: String,
    pub last_accessed: DateTime<Utc>,
    pub login_count: u64,
}

/// One line of a user's activity log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActivityItem {
    pub event_id: String,
    pub service_id: String,
    pub service_name: String,
    pub timestamp: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// Set when the user reported this event as suspicious (seed 000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_id: Option<String>,
    /// The Zendesk ticket of that report, once created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_id: Option<u64>,
}

/// Newest first; ties broken by service id so the order is stable.
pub fn newest_first(mut services: Vec<ServiceEntry>) -> Vec<ServiceEntry> {
    services.sort_by(|a, b| b.last_accessed.cmp(&a.last_accessed).then_with(|| a.service_id.cmp(&b.service_id)));
    services
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2024-06-01T12:00:00Z".parse().unwrap()
    }

    fn raw() -> RawLoginEvent {
        RawLoginEvent {
            user_id: "123456789".into(),
            service_id: "abcdef".into(),
            service_name: "A service name".into(),
            timestamp: "2022-08-04T08:50:39Z".into(),
            event_id: None,
            session_id: None,
        }
    }

    #[test]
    fn parses_the_seed_shape_and_derives_a_stable_event_id() {
        let a = LoginEvent::parse(raw(), now()).unwrap();
        let b = LoginEvent::parse(raw(), now()).unwrap();
        assert_eq!(a.event_id, b.event_id, "redelivery must map to the same event");
        assert!(a.event_id.as_str().starts_with("d-"));
        assert_eq!(render_time(a.timestamp), "2022-08-04T08:50:39Z");

        let mut other = raw();
        other.timestamp = "2022-08-04T08:50:40Z".into();
        assert_ne!(LoginEvent::parse(other, now()).unwrap().event_id, a.event_id);
    }

    #[test]
    fn equal_instants_in_other_offsets_are_the_same_event() {
        let mut shifted = raw();
        shifted.timestamp = "2022-08-04T09:50:39+01:00".into();
        assert_eq!(
            LoginEvent::parse(shifted, now()).unwrap().event_id,
            LoginEvent::parse(raw(), now()).unwrap().event_id
        );
    }

    #[test]
    fn keeps_a_given_event_id() {
        let mut r = raw();
        r.event_id = Some("evt-1".into());
        assert_eq!(LoginEvent::parse(r, now()).unwrap().event_id.as_str(), "evt-1");
    }

    #[test]
    fn rejects_bad_fields_with_a_reason_naming_the_field() {
        type Mutation = Box<dyn Fn(&mut RawLoginEvent)>;
        let cases: Vec<(Mutation, &str)> = vec![
            (Box::new(|r| r.user_id.clear()), "user_id is empty"),
            (Box::new(|r| r.service_id = "a b".into()), "service_id contains whitespace"),
            (Box::new(|r| r.service_name = "   ".into()), "service_name is empty"),
            (Box::new(|r| r.timestamp = "yesterday".into()), "timestamp is not an RFC 3339"),
            (Box::new(|r| r.timestamp = "2024-06-03T12:00:00Z".into()), "in the future"),
            (Box::new(|r| r.user_id = "x".repeat(300)), "user_id is longer"),
        ];
        for (mutate, expected) in cases {
            let mut r = raw();
            mutate(&mut r);
            let err = LoginEvent::parse(r, now()).unwrap_err().to_string();
            assert!(err.contains(expected), "{err:?} should contain {expected:?}");
        }
    }

    #[test]
    fn services_sort_newest_first() {
        let e = |id: &str, t: &str| ServiceEntry {
            service_id: id.into(),
            service_name: id.into(),
            last_accessed: t.parse().unwrap(),
            login_count: 1,
        };
        let sorted = newest_first(vec![e("old", "2022-07-03T10:23:45Z"), e("new", "2022-08-04T08:50:39Z")]);
        assert_eq!(sorted[0].service_id, "new");
    }
}
