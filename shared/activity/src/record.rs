//! The record-login use case: validate, then record once.

use chrono::{DateTime, Utc};
use kit::batch::Outcome;
use kit::{Classify, ErrorClass};

use crate::domain::{InvalidLoginEvent, LoginEvent, RawLoginEvent};
use crate::ports::{LoginRecorder, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum RecordLoginError {
    #[error("invalid login event: {0}")]
    Invalid(#[from] InvalidLoginEvent),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Classify for RecordLoginError {
    fn class(&self) -> ErrorClass {
        match self {
            RecordLoginError::Invalid(_) => ErrorClass::Permanent,
            RecordLoginError::Store(e) => e.class(),
        }
    }
    fn kind(&self) -> &'static str {
        match self {
            RecordLoginError::Invalid(_) => "invalid_login_event",
            RecordLoginError::Store(e) => e.kind(),
        }
    }
}

/// Records one login. A redelivered event is reported as a duplicate and changes nothing.
pub async fn record_login<S: LoginRecorder + ?Sized>(
    store: &S,
    raw: RawLoginEvent,
    now: DateTime<Utc>,
) -> Result<(LoginEvent, Outcome), RecordLoginError> {
    let event = LoginEvent::parse(raw, now)?;
    let recorded = store.record(&event).await?;
    let outcome = if recorded.new_event { Outcome::Done } else { Outcome::Duplicate };
    Ok((event, outcome))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Mutex;

    use async_trait::async_trait;

    use super::*;
    use crate::domain::ServiceEntry;
    use crate::ports::Recorded;

    /// The store's rules in memory: event ids are unique, newest instant wins.
    #[derive(Default)]
    struct MemoryStore {
        events: Mutex<HashMap<String, LoginEvent>>,
        services: Mutex<HashMap<(String, String), ServiceEntry>>,
    }

    #[async_trait]
    impl LoginRecorder for MemoryStore {
        async fn record(&self, e: &LoginEvent) -> Result<Recorded, StoreError> {
            let key = format!("{}/{}", e.user_id, e.event_id);
            let new_event = self.events.lock().unwrap().insert(key, e.clone()).is_none();
            let mut services = self.services.lock().unwrap();
            let entry = services.entry((e.user_id.to_string(), e.service_id.to_string())).or_insert(ServiceEntry {
                service_id: e.service_id.to_string(),
                service_name: e.service_name.clone(),
                last_accessed: e.timestamp,
                login_count: 0,
            });
            if new_event {
                entry.login_count += 1;
            }
            let newest = e.timestamp >= entry.last_accessed;
            if newest {
                entry.last_accessed = e.timestamp;
                entry.service_name = e.service_name.clone();
            }
            Ok(Recorded { new_event, newest_for_service: newest })
        }
    }

    fn raw(service: &str, ts: &str) -> RawLoginEvent {
        RawLoginEvent {
            user_id: "u1".into(),
            service_id: service.into(),
            service_name: format!("{service} at {ts}"),
            timestamp: ts.into(),
            event_id: None,
            session_id: None,
        }
    }

    fn now() -> DateTime<Utc> {
        "2024-01-01T00:00:00Z".parse().unwrap()
    }

    #[tokio::test]
    async fn given_a_redelivered_event_when_recorded_then_it_is_a_duplicate_and_counts_once() {
        let store = MemoryStore::default();
        let (_, first) = record_login(&store, raw("svc", "2023-01-01T00:00:00Z"), now()).await.unwrap();
        let (_, again) = record_login(&store, raw("svc", "2023-01-01T00:00:00Z"), now()).await.unwrap();
        assert_eq!((first, again), (Outcome::Done, Outcome::Duplicate));
        let services = store.services.lock().unwrap();
        assert_eq!(services[&("u1".to_owned(), "svc".to_owned())].login_count, 1);
    }

    #[tokio::test]
    async fn given_an_invalid_event_then_the_error_is_permanent() {
        let store = MemoryStore::default();
        let err = record_login(&store, raw("svc", "not a time"), now()).await.unwrap_err();
        assert_eq!(err.class(), ErrorClass::Permanent);
        assert_eq!(err.kind(), "invalid_login_event");
        assert!(store.events.lock().unwrap().is_empty());
    }
}
