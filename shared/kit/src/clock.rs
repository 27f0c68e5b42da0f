//! Time as a port, so expiry and backoff logic is testable without sleeping.

use chrono::{DateTime, Utc};

/// Where "now" comes from.
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> DateTime<Utc>;
}

impl<C: Clock + ?Sized> Clock for std::sync::Arc<C> {
    fn now(&self) -> DateTime<Utc> {
        (**self).now()
    }
}

/// The wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock tests can set and move.
#[derive(Debug, Default)]
pub struct FixedClock(std::sync::Mutex<Option<DateTime<Utc>>>);

impl FixedClock {
    /// A clock stopped at `t`.
    pub fn at(t: DateTime<Utc>) -> Self {
        Self(std::sync::Mutex::new(Some(t)))
    }
    /// Moves the clock on by `by`.
    pub fn advance(&self, by: chrono::Duration) {
        let mut guard = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let now = guard.unwrap_or_else(Utc::now);
        *guard = Some(now + by);
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        let guard = self.0.lock().unwrap_or_else(|p| p.into_inner());
        guard.unwrap_or_else(Utc::now)
    }
}
