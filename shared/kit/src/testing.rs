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
    /// Every visibility change: (receipt handle, seconds).
    pub visibility: Mutex<Vec<(String, i32)>>,
    /// Every dead letter sent.
    pub dead_letters: Mutex<Vec<DeadLetter>>,
    /// When set, dead-lettering fails (retryable).
    pub fail_dead_letter: std::sync::atomic::AtomicBool,
    /// Every call waits this long first (a slow SQS), when set.
    pub stall: Mutex<Option<std::time::Duration>>,
}

impl FakeQueues {
    /// The dead letters sent so far.
    pub fn dead_letters(&self) -> Vec<DeadLetter> {
        lock(&self.dead_letters).clone()
    }
    /// The visibility changes so far.
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
    /// The records, by key.
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

/// An SQS record as the Lambda event source hands it over, for handler tests.
///
/// ```
/// use kit::testing::SqsRecord;
///
/// let record = SqsRecord::new(r#"{"id":"o-1"}"#).message_id("m-7").receive_count(3).build();
/// assert_eq!(record.attributes["ApproximateReceiveCount"], "3");
/// let event = SqsRecord::event([record]);
/// assert_eq!(event.records.len(), 1);
/// ```
#[derive(Debug, Clone)]
pub struct SqsRecord(aws_lambda_events::sqs::SqsMessage);

impl SqsRecord {
    /// A first delivery of `body` from a standard queue, message id `m-1`.
    pub fn new(body: impl Into<String>) -> Self {
        let mut m = aws_lambda_events::sqs::SqsMessage::default();
        m.message_id = Some("m-1".to_owned());
        m.receipt_handle = Some("receipt-m-1".to_owned());
        m.body = Some(body.into());
        m.event_source_arn = Some("arn:aws:sqs:eu-west-2:000000000000:test-queue".to_owned());
        m.attributes.insert("ApproximateReceiveCount".to_owned(), "1".to_owned());
        Self(m)
    }

    /// A record whose body is `value` as JSON.
    pub fn json(value: &impl serde::Serialize) -> Self {
        Self::new(serde_json::to_string(value).unwrap_or_default())
    }

    /// Sets the message id (and the receipt handle after it).
    pub fn message_id(mut self, id: &str) -> Self {
        self.0.message_id = Some(id.to_owned());
        self.0.receipt_handle = Some(format!("receipt-{id}"));
        self
    }

    /// Which delivery this is (1 = first): the runner gives up on the queue's last.
    pub fn receive_count(self, n: u32) -> Self {
        self.attribute("ApproximateReceiveCount", &n.to_string())
    }

    /// A system attribute (`MessageGroupId`, `SentTimestamp`, …).
    pub fn attribute(mut self, name: &str, value: &str) -> Self {
        self.0.attributes.insert(name.to_owned(), value.to_owned());
        self
    }

    /// The `correlation_id` message attribute an entry queue's producer may set.
    pub fn correlation_id(mut self, id: &str) -> Self {
        let mut attr = aws_lambda_events::sqs::SqsMessageAttribute::default();
        attr.string_value = Some(id.to_owned());
        attr.data_type = Some("String".to_owned());
        self.0.message_attributes.insert(crate::decode::CORRELATION_ATTRIBUTE.to_owned(), attr);
        self
    }

    /// The source queue's ARN (one ending in `.fifo` makes the runner keep group order).
    pub fn source_arn(mut self, arn: &str) -> Self {
        self.0.event_source_arn = Some(arn.to_owned());
        self
    }

    /// The record.
    pub fn build(self) -> aws_lambda_events::sqs::SqsMessage {
        self.0
    }

    /// An event of these records.
    pub fn event(
        records: impl IntoIterator<Item = aws_lambda_events::sqs::SqsMessage>,
    ) -> aws_lambda_events::sqs::SqsEvent {
        let mut event = aws_lambda_events::sqs::SqsEvent::default();
        event.records = records.into_iter().collect();
        event
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
    /// Every envelope published so far, as JSON.
    pub fn published(&self) -> Vec<serde_json::Value> {
        self.published.lock().map(|p| p.clone()).unwrap_or_default()
    }
    /// The published envelopes of type `kind`, as JSON.
    pub fn of_type(&self, kind: &str) -> Vec<serde_json::Value> {
        self.published().into_iter().filter(|e| e["type"] == kind).collect()
    }
    /// The published envelopes of `M`'s type, typed (one that does not read back as
    /// `M` is left out, and shows in [`RecordingPublisher::published`]).
    pub fn envelopes<M: crate::Message>(&self) -> Vec<crate::Envelope<M>> {
        self.of_type(M::TYPE).into_iter().filter_map(|v| serde_json::from_value(v).ok()).collect()
    }
    /// Makes the next `n` publishes fail (retryable).
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
