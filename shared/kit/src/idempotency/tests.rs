use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use super::*;
use crate::clock::FixedClock;
use crate::testing::MemoryIdempotencyStore;

#[derive(Debug, thiserror::Error)]
#[error("provider said no")]
struct WorkFailed;
impl Classify for WorkFailed {
    fn class(&self) -> ErrorClass {
        ErrorClass::Retryable
    }
    fn kind(&self) -> &'static str {
        "work_failed"
    }
}

fn t0() -> DateTime<Utc> {
    "2025-01-01T00:00:00Z".parse().unwrap()
}

fn idem(store: Arc<MemoryIdempotencyStore>) -> Idempotency<Arc<MemoryIdempotencyStore>, Arc<FixedClock>> {
    Idempotency::new(store, Arc::new(FixedClock::at(t0()))).with_retention(Duration::hours(1))
}

#[tokio::test]
async fn second_call_replays_the_first_result_without_running_the_work() {
    let store = Arc::new(MemoryIdempotencyStore::default());
    let idem = idem(store.clone());
    let runs = AtomicU32::new(0);
    let work = || async {
        runs.fetch_add(1, Ordering::SeqCst);
        Ok::<_, WorkFailed>("ticket-42".to_owned())
    };
    let first = idem.once("step#r1", "payload", None, work).await.unwrap();
    let second = idem.once("step#r1", "payload", None, work).await.unwrap();
    assert_eq!(first, Once::Fresh("ticket-42".to_owned()));
    assert_eq!(second, Once::Replayed("ticket-42".to_owned()));
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_different_payload_under_the_same_key_is_refused_as_permanent() {
    let store = Arc::new(MemoryIdempotencyStore::default());
    let idem = idem(store);
    idem.once("k", "a", None, || async { Ok::<_, WorkFailed>(1) }).await.unwrap();
    let err = idem.once("k", "b", None, || async { Ok::<_, WorkFailed>(2) }).await.unwrap_err();
    assert!(matches!(err, IdempotencyError::PayloadMismatch { .. }));
    assert_eq!(err.class(), ErrorClass::Permanent);
}

#[tokio::test]
async fn failed_work_releases_the_key_so_the_retry_runs_it() {
    let store = Arc::new(MemoryIdempotencyStore::default());
    let idem = idem(store.clone());
    let err = idem.once("k", "p", None, || async { Err::<u32, _>(WorkFailed) }).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Retryable);
    assert!(store.records.lock().unwrap().is_empty());
    let ok = idem.once("k", "p", None, || async { Ok::<_, WorkFailed>(7) }).await.unwrap();
    assert_eq!(ok, Once::Fresh(7));
}

#[tokio::test]
async fn a_live_lease_makes_a_concurrent_attempt_retryable_and_an_expired_one_is_taken_over() {
    let store = Arc::new(MemoryIdempotencyStore::default());
    let clock = Arc::new(FixedClock::at(t0()));
    let idem = Idempotency::new(store.clone(), clock.clone());
    // A crashed attempt left an INPROGRESS record leased for 30 s.
    store.records.lock().unwrap().insert(
        "k".into(),
        Record {
            key: "k".into(),
            status: Status::InProgress,
            payload_hash: payload_hash("p"),
            result: None,
            owner: "crashed".into(),
            lease_until: t0() + Duration::seconds(30),
            expires_at: t0() + Duration::days(1),
        },
    );
    let err = idem.once("k", "p", None, || async { Ok::<_, WorkFailed>(1) }).await.unwrap_err();
    assert!(matches!(err, IdempotencyError::InProgress { .. }));
    assert_eq!(err.class(), ErrorClass::Retryable);

    clock.advance(Duration::seconds(31));
    let ok = idem.once("k", "p", None, || async { Ok::<_, WorkFailed>(2) }).await.unwrap();
    assert_eq!(ok, Once::Fresh(2));
}

#[tokio::test]
async fn an_expired_completed_record_is_not_honoured_even_if_still_stored() {
    let store = Arc::new(MemoryIdempotencyStore::default());
    let clock = Arc::new(FixedClock::at(t0()));
    let idem = Idempotency::new(store.clone(), clock.clone()).with_retention(Duration::hours(1));
    idem.once("k", "p", None, || async { Ok::<_, WorkFailed>(1) }).await.unwrap();
    clock.advance(Duration::hours(2));
    assert_eq!(store.records.lock().unwrap().len(), 1, "TTL deletion lags: the item is still there");
    let again = idem.once("k", "p", None, || async { Ok::<_, WorkFailed>(2) }).await.unwrap();
    assert_eq!(again, Once::Fresh(2));
}

#[tokio::test]
async fn the_lease_runs_until_the_callers_deadline() {
    let store = Arc::new(MemoryIdempotencyStore::default());
    let idem = idem(store.clone());
    let deadline = t0() + Duration::seconds(300);
    let s2 = store.clone();
    idem.once("k", "p", Some(deadline), || async move {
        let lease = s2.records.lock().unwrap()["k"].lease_until;
        assert!(lease >= deadline, "lease {lease} ends before the deadline {deadline}");
        Ok::<_, WorkFailed>(())
    })
    .await
    .unwrap();
}

/// A store whose `complete` fails a given number of times first.
struct FlakyComplete {
    inner: MemoryIdempotencyStore,
    failures_left: AtomicU32,
}

#[async_trait::async_trait]
impl IdempotencyStore for FlakyComplete {
    async fn try_acquire(&self, record: &Record, now: DateTime<Utc>) -> Result<Acquire, StoreError> {
        self.inner.try_acquire(record, now).await
    }
    async fn complete(
        &self,
        key: &str,
        owner: &str,
        result: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        if self.failures_left.load(Ordering::SeqCst) > 0 {
            self.failures_left.fetch_sub(1, Ordering::SeqCst);
            return Err(StoreError::Sdk(crate::sdk::SdkFailure::retryable("throttled")));
        }
        self.inner.complete(key, owner, result, expires_at).await
    }
    async fn release(&self, key: &str, owner: &str) -> Result<(), StoreError> {
        self.inner.release(key, owner).await
    }
}

#[tokio::test]
async fn a_transient_failure_to_record_completion_is_retried_so_the_work_is_not_repeated() {
    let store = Arc::new(FlakyComplete { inner: MemoryIdempotencyStore::default(), failures_left: AtomicU32::new(2) });
    let idem = Idempotency::new(store.clone(), Arc::new(FixedClock::at(t0())));
    let runs = AtomicU32::new(0);
    let work = || async {
        runs.fetch_add(1, Ordering::SeqCst);
        Ok::<_, WorkFailed>(5)
    };
    assert_eq!(idem.once("k", "p", None, work).await.unwrap(), Once::Fresh(5));
    assert_eq!(idem.once("k", "p", None, work).await.unwrap(), Once::Replayed(5));
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}
