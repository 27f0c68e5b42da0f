//! Spacing DescribeContact calls: Connect's quota is per account and Region, a
//! steady rate with a small burst, and a throttled call only comes back later. So
//! each poll-contact instance calls no faster than its share of the configured
//! rate (the rate over the event source's maximum concurrency): the instances
//! together stay within it, and throttling is the exception, not the pace.

use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::contact::{ContactId, InstanceId};
use crate::ports::{ContactDirectory, Described, DirectoryError};

/// A directory whose calls start at least `interval` apart (first call at once).
pub struct Paced<D> {
    inner: D,
    interval: Duration,
    next: Mutex<Option<Instant>>,
}

impl<D> Paced<D> {
    pub fn new(inner: D, interval: Duration) -> Self {
        Self { inner, interval, next: Mutex::new(None) }
    }

    /// `rps` calls a second across `instances` concurrent instances.
    pub fn interval_for(rps: f64, instances: u32) -> Duration {
        if rps <= 0.0 {
            return Duration::ZERO;
        }
        Duration::from_secs_f64(f64::from(instances.max(1)) / rps)
    }

    /// Waits for this call's turn (turns are handed out in call order).
    async fn turn(&self) {
        let start = {
            let mut next = self.next.lock().await;
            let now = Instant::now();
            let start = next.map_or(now, |n| n.max(now));
            *next = Some(start + self.interval);
            start
        };
        tokio::time::sleep_until(start).await;
    }
}

#[async_trait]
impl<D: ContactDirectory> ContactDirectory for Paced<D> {
    async fn describe(&self, instance: &InstanceId, contact: &ContactId) -> Result<Described, DirectoryError> {
        self.turn().await;
        self.inner.describe(instance, contact).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::FakeDirectory;

    #[test]
    fn the_rate_is_shared_by_the_instances() {
        assert_eq!(Paced::<()>::interval_for(2.0, 2), Duration::from_secs(1));
        assert_eq!(Paced::<()>::interval_for(10.0, 2), Duration::from_millis(200));
        assert_eq!(Paced::<()>::interval_for(2.0, 0), Duration::from_millis(500));
    }

    #[tokio::test]
    async fn calls_start_an_interval_apart() {
        let interval = Duration::from_millis(40);
        let paced = std::sync::Arc::new(Paced::new(FakeDirectory::default(), interval));
        let instance = InstanceId::parse("bd7c61d1-6722-4b4f-8c9c-6253e5a85c32").unwrap();
        let id = ContactId::parse("955c07e1-af64-4094-9c16-c59995ecdcbe").unwrap();
        let started = Instant::now();
        let calls: Vec<_> = (0..5)
            .map(|_| {
                let (paced, instance, id) = (paced.clone(), instance.clone(), id.clone());
                tokio::spawn(async move {
                    paced.describe(&instance, &id).await.unwrap();
                    started.elapsed()
                })
            })
            .collect();
        let mut times = Vec::new();
        for call in calls {
            times.push(call.await.unwrap());
        }
        times.sort();
        for (i, t) in times.iter().enumerate() {
            assert!(*t >= interval * i as u32, "call {i} after {t:?}");
        }
        assert_eq!(paced.inner.calls(), 5);
    }
}
