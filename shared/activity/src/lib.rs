//! Seed 001: who logged in where. Login events become a per-user list of services
//! (newest `last_accessed` per service, whatever the arrival order) and an
//! append-only activity log that the query API reads newest first.

pub mod cursor;
pub mod domain;
pub mod dynamo;
pub mod keys;
pub mod page;
pub mod ports;
pub mod record;

pub use domain::{ActivityItem, EventId, InvalidLoginEvent, LoginEvent, RawLoginEvent, ServiceEntry, UserId};
pub use ports::{ActivityPage, ActivityReader, LoginRecorder, Recorded, StoreError};
