//! The activity table's key design and attribute names, in one place.
//!
//! | item        | pk           | sk                   | activity_time (LSI `by-time`) |
//! |-------------|--------------|----------------------|-------------------------------|
//! | service     | `USER#{id}`  | `SERVICE#{service}`  | —                             |
//! | activity    | `USER#{id}`  | `EVENT#{event_id}`   | `{micros:020}#{event_id}`     |
//!
//! Activity items are addressed by event id (the report workflow marks them by id)
//! and listed by time through the sparse local index.

use chrono::{DateTime, Utc};

use crate::domain::{EventId, ServiceId, UserId};

pub const PK: &str = "pk";
pub const SK: &str = "sk";
pub const ACTIVITY_TIME: &str = "activity_time";
pub const BY_TIME_INDEX: &str = "by-time";

pub const USER_PREFIX: &str = "USER#";
pub const SERVICE_PREFIX: &str = "SERVICE#";
pub const EVENT_PREFIX: &str = "EVENT#";

pub const SERVICE_ID: &str = "service_id";
pub const SERVICE_NAME: &str = "service_name";
pub const LAST_ACCESSED: &str = "last_accessed";
/// Epoch microseconds of `last_accessed`: compared in conditions, never shown.
pub const LAST_ACCESSED_US: &str = "last_accessed_us";
pub const LAST_EVENT_ID: &str = "last_event_id";
pub const LOGIN_COUNT: &str = "login_count";
pub const FIRST_SEEN: &str = "first_seen";

pub const EVENT_ID: &str = "event_id";
pub const TIMESTAMP: &str = "timestamp";
pub const SESSION_ID: &str = "session_id";
pub const RECORDED_AT: &str = "recorded_at";
/// Hash of what the event says: a reused event id with other content is refused.
pub const CONTENT_HASH: &str = "content_hash";

pub fn user_pk(user: &UserId) -> String {
    format!("{USER_PREFIX}{user}")
}
pub fn service_sk(service: &ServiceId) -> String {
    format!("{SERVICE_PREFIX}{service}")
}
pub fn event_sk(event: &EventId) -> String {
    format!("{EVENT_PREFIX}{event}")
}

/// Sorts chronologically as a string: zero-padded microseconds since the epoch
/// (instants before 1970 are clamped; logins are not that old).
pub fn activity_time(at: DateTime<Utc>, event: &EventId) -> String {
    format!("{:020}#{event}", micros(at))
}

pub fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros().max(0)
}
