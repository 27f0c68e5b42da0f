//! Per-record idempotency: a side effect keyed by (step, key) happens once, and a
//! redelivery gets the recorded result back instead of doing it again.
//!
//! Protocol (the store makes each arrow one conditional write):
//! * absent, or INPROGRESS with an expired lease, or COMPLETED past its expiry
//!   → INPROGRESS, owned by this attempt, leased until the Lambda's deadline;
//! * work succeeds → COMPLETED with the result and an expiry (checked here, because
//!   DynamoDB's TTL deletion lags by hours and the emulator never deletes);
//! * work fails → the record is released, so the retry can take it at once;
//! * held by someone else → INPROGRESS is retryable, COMPLETED replays the result,
//!   and a different payload under the same key is refused (permanent), never
//!   silently treated as the same request.

pub mod dynamodb;

use std::future::Future;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use serde::{de::DeserializeOwned, Serialize};
use sha2::{Digest, Sha256};

use crate::clock::Clock;
use crate::error::{chain, Classify, ErrorClass};
use crate::sdk::SdkFailure;

/// A record's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// An attempt holds the key (until its lease ends).
    InProgress,
    /// The work is done; the result is kept until the record expires.
    Completed,
}

impl Status {
    /// The stored value.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::InProgress => "INPROGRESS",
            Status::Completed => "COMPLETED",
        }
    }
    /// Reads a stored value.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "INPROGRESS" => Some(Status::InProgress),
            "COMPLETED" => Some(Status::Completed),
            _ => None,
        }
    }
}

/// One idempotency record as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The idempotency key.
    pub key: String,
    /// In progress or completed.
    pub status: Status,
    /// The hash of the payload the key was first used with ([`payload_hash`]).
    pub payload_hash: String,
    /// The JSON of the work's result, once COMPLETED.
    pub result: Option<String>,
    /// The attempt that holds (or completed) it.
    pub owner: String,
    /// Until when an INPROGRESS record holds the key.
    pub lease_until: DateTime<Utc>,
    /// When the record stops counting (checked in code, not by TTL).
    pub expires_at: DateTime<Utc>,
}

/// What an acquire attempt found.
#[derive(Debug, Clone, PartialEq)]
pub enum Acquire {
    /// The key was free: this attempt holds it now.
    Acquired,
    /// Someone holds the key; `None` if the record vanished between the two reads.
    Held(Option<Record>),
}

/// The idempotency store's failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A DynamoDB call failed.
    #[error("idempotency store request failed: {0}")]
    Sdk(SdkFailure),
    /// A stored record does not read back.
    #[error("idempotency record {key:?} is malformed: {why}")]
    Malformed {
        /// The idempotency key.
        key: String,
        /// What is wrong with the record.
        why: String,
    },
}

impl Classify for StoreError {
    fn class(&self) -> ErrorClass {
        match self {
            StoreError::Sdk(f) => f.class,
            StoreError::Malformed { .. } => ErrorClass::Retryable,
        }
    }
    fn kind(&self) -> &'static str {
        "idempotency_store"
    }
}

/// The idempotency port.
#[async_trait]
pub trait IdempotencyStore: Send + Sync + 'static {
    /// Writes `record` (INPROGRESS) if the key is free at `now`, else reads the holder.
    async fn try_acquire(&self, record: &Record, now: DateTime<Utc>) -> Result<Acquire, StoreError>;
    /// INPROGRESS (owned by `owner`) → COMPLETED. Returns false if `owner` lost the lease.
    async fn complete(
        &self,
        key: &str,
        owner: &str,
        result: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Deletes the record if `owner` still holds it.
    async fn release(&self, key: &str, owner: &str) -> Result<(), StoreError>;
}

/// The result of [`Idempotency::once`].
#[derive(Debug, Clone, PartialEq)]
pub enum Once<T> {
    /// The work ran now.
    Fresh(T),
    /// The work had already run for this key and payload: its recorded result.
    Replayed(T),
}

impl<T> Once<T> {
    /// The result, fresh or replayed.
    pub fn into_inner(self) -> T {
        match self {
            Once::Fresh(t) | Once::Replayed(t) => t,
        }
    }
    /// True if the work had run before.
    pub fn is_replay(&self) -> bool {
        matches!(self, Once::Replayed(_))
    }
    /// The step's outcome: [`Outcome::Done`](crate::batch::Outcome::Done) if the work
    /// ran now, [`Outcome::Duplicate`](crate::batch::Outcome::Duplicate) if replayed.
    pub fn outcome(&self) -> crate::batch::Outcome {
        if self.is_replay() {
            crate::batch::Outcome::Duplicate
        } else {
            crate::batch::Outcome::Done
        }
    }
}

/// Why [`Idempotency::once`] did not give a result.
#[derive(Debug, thiserror::Error)]
pub enum IdempotencyError<E> {
    /// Another attempt holds the key: retryable.
    #[error("another attempt is working on {key:?} (lease until {lease_until})")]
    InProgress {
        /// The idempotency key.
        key: String,
        /// When the holder's lease ends.
        lease_until: DateTime<Utc>,
    },
    /// The key was used for another payload: permanent.
    #[error("key {key:?} was already used with a different payload")]
    PayloadMismatch {
        /// The idempotency key.
        key: String,
    },
    /// The stored result does not read back: permanent.
    #[error("the recorded result for {key:?} cannot be read: {why}")]
    CorruptResult {
        /// The idempotency key.
        key: String,
        /// Why it does not read back.
        why: String,
    },
    /// The idempotency store failed.
    #[error(transparent)]
    Store(StoreError),
    /// The work itself failed (its record was released).
    #[error(transparent)]
    Work(E),
}

impl<E: Classify> Classify for IdempotencyError<E> {
    fn class(&self) -> ErrorClass {
        match self {
            IdempotencyError::InProgress { .. } => ErrorClass::Retryable,
            IdempotencyError::PayloadMismatch { .. } => ErrorClass::Permanent,
            IdempotencyError::CorruptResult { .. } => ErrorClass::Permanent,
            IdempotencyError::Store(e) => e.class(),
            IdempotencyError::Work(e) => e.class(),
        }
    }
    fn kind(&self) -> &'static str {
        match self {
            IdempotencyError::InProgress { .. } => "idempotency_in_progress",
            IdempotencyError::PayloadMismatch { .. } => "idempotency_payload_mismatch",
            IdempotencyError::CorruptResult { .. } => "idempotency_corrupt_result",
            IdempotencyError::Store(e) => e.kind(),
            IdempotencyError::Work(e) => e.kind(),
        }
    }
}

/// SHA-256 of the payload's JSON, hex encoded.
pub fn payload_hash<P: Serialize + ?Sized>(payload: &P) -> String {
    let bytes = serde_json::to_vec(payload).unwrap_or_default();
    hex::encode(Sha256::digest(&bytes))
}

/// Tries at recording a completion before the error goes to the caller.
const COMPLETE_ATTEMPTS: u32 = 4;

/// Runs side effects once per key (see the module docs and [`Idempotency::once`]).
pub struct Idempotency<S, C> {
    store: S,
    clock: C,
    /// How long a completed result is honoured.
    retention: Duration,
    /// Lease used when the caller has no deadline.
    default_lease: Duration,
}

impl<S: IdempotencyStore, C: Clock> Idempotency<S, C> {
    /// Results are honoured for 7 days.
    pub fn new(store: S, clock: C) -> Self {
        Self { store, clock, retention: Duration::days(7), default_lease: Duration::seconds(60) }
    }

    /// How long a completed result is honoured.
    pub fn with_retention(mut self, retention: Duration) -> Self {
        self.retention = retention;
        self
    }

    /// Runs `work` once per `key`. `deadline` is when this attempt will surely be over
    /// (the Lambda deadline): the lease lasts until then, so a crashed attempt's key
    /// frees itself and a live one is never taken over.
    pub async fn once<T, E, F, Fut, P>(
        &self,
        key: &str,
        payload: &P,
        deadline: Option<DateTime<Utc>>,
        work: F,
    ) -> Result<Once<T>, IdempotencyError<E>>
    where
        T: Serialize + DeserializeOwned,
        P: Serialize + ?Sized,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let hash = payload_hash(payload);
        let owner = uuid::Uuid::new_v4().to_string();
        // Two tries: the holder's record can vanish (released) between our write and read.
        for _ in 0..2 {
            let now = self.clock.now();
            let lease_until = deadline.filter(|d| *d > now).unwrap_or(now + self.default_lease) + Duration::seconds(1);
            let record = Record {
                key: key.to_owned(),
                status: Status::InProgress,
                payload_hash: hash.clone(),
                result: None,
                owner: owner.clone(),
                lease_until,
                expires_at: lease_until + self.retention,
            };
            match self.store.try_acquire(&record, now).await.map_err(IdempotencyError::Store)? {
                Acquire::Acquired => return self.run_owned(key, &owner, work).await,
                Acquire::Held(None) => continue,
                Acquire::Held(Some(held)) => return self.judge_held(held, &hash, now),
            }
        }
        Err(IdempotencyError::InProgress { key: key.to_owned(), lease_until: self.clock.now() })
    }

    async fn run_owned<T, E, F, Fut>(&self, key: &str, owner: &str, work: F) -> Result<Once<T>, IdempotencyError<E>>
    where
        T: Serialize,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        match work().await {
            Ok(value) => {
                let json = serde_json::to_string(&value)
                    .map_err(|e| IdempotencyError::CorruptResult { key: key.to_owned(), why: e.to_string() })?;
                self.record_completion(key, owner, &json).await.map_err(IdempotencyError::Store)?;
                Ok(Once::Fresh(value))
            }
            Err(e) => {
                if let Err(release) = self.store.release(key, owner).await {
                    // The lease still frees the key when it runs out.
                    tracing::warn!(idempotency_key = %key, error = %chain(&release), "could not release the idempotency record");
                }
                Err(IdempotencyError::Work(e))
            }
        }
    }

    /// Marks the key COMPLETED. The side effect has already happened, so a transient
    /// store failure here is retried in place: giving up would leave the key leased
    /// and the retry of the record would repeat the side effect.
    async fn record_completion(&self, key: &str, owner: &str, json: &str) -> Result<(), StoreError> {
        let mut pause = std::time::Duration::from_millis(100);
        for attempt in 1..=COMPLETE_ATTEMPTS {
            let expires_at = self.clock.now() + self.retention;
            match self.store.complete(key, owner, json, expires_at).await {
                Ok(true) => return Ok(()),
                Ok(false) => {
                    tracing::warn!(idempotency_key = %key, "lease was lost before completion; another attempt holds the key");
                    return Ok(());
                }
                Err(e) if e.class() == ErrorClass::Retryable && attempt < COMPLETE_ATTEMPTS => {
                    tracing::warn!(idempotency_key = %key, attempt, error = %chain(&e), "could not record completion; retrying");
                    tokio::time::sleep(pause).await;
                    pause *= 2;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn judge_held<T, E>(&self, held: Record, hash: &str, now: DateTime<Utc>) -> Result<Once<T>, IdempotencyError<E>>
    where
        T: DeserializeOwned,
    {
        if held.payload_hash != hash {
            return Err(IdempotencyError::PayloadMismatch { key: held.key });
        }
        match held.status {
            Status::Completed if held.expires_at > now => {
                let json = held.result.unwrap_or_default();
                serde_json::from_str(&json)
                    .map(Once::Replayed)
                    .map_err(|e| IdempotencyError::CorruptResult { key: held.key, why: e.to_string() })
            }
            // Expired or leased: the write condition refused us, so someone is (again) on it.
            _ => Err(IdempotencyError::InProgress { key: held.key, lease_until: held.lease_until }),
        }
    }
}

#[cfg(test)]
mod tests;
