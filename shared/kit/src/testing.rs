//! In-memory fakes of the kit's ports, for unit tests here and in every system crate.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::idempotency::{Acquire, IdempotencyStore, Record, Status, StoreError};
use crate::queue::{DeadLetter, QueueError, QueueOps};

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Records visibility changes and dead letters; can be told to fail dead-lettering.
#[derive(Default)]
pub struct FakeQueues {
    pub visibility: Mutex<Vec<(String, i32)>>,
    pub dead_letters: Mutex<Vec<DeadLetter>>,
    pub fail_dead_letter: std::sync::atomic::AtomicBool,
    /// Every call waits this long first (a slow SQS), when set.
    pub stall: Mutex<Option<std::time::Duration>>,
}

impl FakeQueues {
    pub fn dead_letters(&self) -> Vec<DeadLetter> {
        lock(&self.dead_letters).clone()
    }
    pub fn visibility_changes(&self) -> Vec<(String, i32)> {
        lock(&self.visibility).clone()
    }
    /// Makes every later call take `d` before it answers.
    pub fn stall_for(&self, d: std::time::Duration) {
        *lock(&self.stall) = Some(d);
    }
    async fn maybe_stall(&self) {
        let stall = *lock(&self.stall);
        if let Some(d) = stall {
            tokio::time::sleep(d).await;
        }
    }
}

#[async_trait]
impl QueueOps for FakeQueues {
    async fn extend_visibility(&self, _source_arn: &str, receipt_handle: &str, secs: i32) -> Result<(), QueueError> {
        self.maybe_stall().await;
        lock(&self.visibility).push((receipt_handle.to_owned(), secs));
        Ok(())
    }
    async fn dead_letter(&self, letter: &DeadLetter) -> Result<(), QueueError> {
        self.maybe_stall().await;
        if self.fail_dead_letter.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(QueueError::Sqs {
                operation: "SendMessage",
                failure: crate::sdk::SdkFailure::retryable("injected failure"),
            });
        }
        lock(&self.dead_letters).push(letter.clone());
        Ok(())
    }
}

#[async_trait]
impl<T: QueueOps> QueueOps for std::sync::Arc<T> {
    async fn extend_visibility(&self, source_arn: &str, receipt_handle: &str, secs: i32) -> Result<(), QueueError> {
        (**self).extend_visibility(source_arn, receipt_handle, secs).await
    }
    async fn dead_letter(&self, letter: &DeadLetter) -> Result<(), QueueError> {
        (**self).dead_letter(letter).await
    }
}

/// The idempotency store's conditions, evaluated in memory under one lock.
#[derive(Default)]
pub struct MemoryIdempotencyStore {
    pub records: Mutex<HashMap<String, Record>>,
}

#[async_trait]
impl IdempotencyStore for MemoryIdempotencyStore {
    async fn try_acquire(&self, record: &Record, now: DateTime<Utc>) -> Result<Acquire, StoreError> {
        let mut records = lock(&self.records);
        let free = match records.get(&record.key) {
            None => true,
            Some(r) => match r.status {
                Status::InProgress => r.lease_until < now,
                Status::Completed => r.expires_at < now,
            },
        };
        if free {
            records.insert(record.key.clone(), record.clone());
            Ok(Acquire::Acquired)
        } else {
            Ok(Acquire::Held(records.get(&record.key).cloned()))
        }
    }
    async fn complete(
        &self,
        key: &str,
        owner: &str,
        result: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut records = lock(&self.records);
        match records.get_mut(key) {
            Some(r) if r.owner == owner && r.status == Status::InProgress => {
                r.status = Status::Completed;
                r.result = Some(result.to_owned());
                r.expires_at = expires_at;
                Ok(true)
            }
            _ => Ok(false),
        }
    }
    async fn release(&self, key: &str, owner: &str) -> Result<(), StoreError> {
        let mut records = lock(&self.records);
        if records.get(key).is_some_and(|r| r.owner == owner && r.status == Status::InProgress) {
            records.remove(key);
        }
        Ok(())
    }
}

#[async_trait]
impl<T: IdempotencyStore> IdempotencyStore for std::sync::Arc<T> {
    async fn try_acquire(&self, record: &Record, now: DateTime<Utc>) -> Result<Acquire, StoreError> {
        (**self).try_acquire(record, now).await
    }
    async fn complete(
        &self,
        key: &str,
        owner: &str,
        result: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        (**self).complete(key, owner, result, expires_at).await
    }
    async fn release(&self, key: &str, owner: &str) -> Result<(), StoreError> {
        (**self).release(key, owner).await
    }
}

/// Keeps every published envelope (as JSON), for assertions on what a step announced.
#[derive(Debug, Default)]
pub struct RecordingPublisher {
    published: Mutex<Vec<serde_json::Value>>,
    /// Publishes still to fail (retryable), for testing the paths after a lost publish.
    failures_left: Mutex<u32>,
}

impl RecordingPublisher {
    pub fn published(&self) -> Vec<serde_json::Value> {
        self.published.lock().map(|p| p.clone()).unwrap_or_default()
    }
    pub fn of_type(&self, kind: &str) -> Vec<serde_json::Value> {
        self.published().into_iter().filter(|e| e["type"] == kind).collect()
    }
    pub fn fail_next(&self, n: u32) {
        if let Ok(mut f) = self.failures_left.lock() {
            *f = n;
        }
    }
}

#[async_trait]
impl crate::publisher::EventPublisher for RecordingPublisher {
    async fn publish<M: crate::Message>(
        &self,
        event: &crate::Envelope<M>,
    ) -> Result<(), crate::publisher::PublishError> {
        if let Ok(mut f) = self.failures_left.lock() {
            if *f > 0 {
                *f -= 1;
                return Err(crate::publisher::PublishError::Sns(crate::sdk::SdkFailure::retryable("injected")));
            }
        }
        let value = serde_json::to_value(event).map_err(crate::publisher::PublishError::Serialise)?;
        if let Ok(mut p) = self.published.lock() {
            p.push(value);
        }
        Ok(())
    }
}

#[async_trait]
impl<T: crate::publisher::EventPublisher> crate::publisher::EventPublisher for std::sync::Arc<T> {
    async fn publish<M: crate::Message>(
        &self,
        event: &crate::Envelope<M>,
    ) -> Result<(), crate::publisher::PublishError> {
        (**self).publish(event).await
    }
}
