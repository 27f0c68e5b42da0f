//! Every port is also implemented by `Arc<T>`, so a handler and a test (or two
//! handlers) can share one adapter or fake.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kit::Envelope;

use crate::messages::DecisionMade;
use crate::ports::*;
use crate::rules::ExecutionOutcome;
use crate::state::{ApprovalRequest, OutboxEvent};
use crate::token::TokenHash;

#[async_trait]
impl<T: RequestStore> RequestStore for Arc<T> {
    async fn create(&self, req: &ApprovalRequest, outbox_due: DateTime<Utc>) -> Result<Created, StoreError> {
        (**self).create(req, outbox_due).await
    }
    async fn get(&self, request_id: &str) -> Result<Option<ApprovalRequest>, StoreError> {
        (**self).get(request_id).await
    }
}

#[async_trait]
impl<T: DecisionStore> DecisionStore for Arc<T> {
    async fn decide(&self, write: &DecisionWrite<'_>) -> Result<DecisionWritten, StoreError> {
        (**self).decide(write).await
    }
}

#[async_trait]
impl<T: EffectStore> EffectStore for Arc<T> {
    async fn claim(&self, id: &str, e: Effect, now: DateTime<Utc>, until: DateTime<Utc>) -> Result<bool, StoreError> {
        (**self).claim(id, e, now, until).await
    }
    async fn release(&self, id: &str, e: Effect) -> Result<(), StoreError> {
        (**self).release(id, e).await
    }
    async fn set_token(&self, id: &str, i: usize, h: &TokenHash, now: DateTime<Utc>) -> Result<bool, StoreError> {
        (**self).set_token(id, i, h, now).await
    }
    async fn mark_emailed(&self, id: &str, i: usize, now: DateTime<Utc>) -> Result<(), StoreError> {
        (**self).mark_emailed(id, i, now).await
    }
    async fn mark_notified(&self, id: &str, i: usize, now: DateTime<Utc>) -> Result<(), StoreError> {
        (**self).mark_notified(id, i, now).await
    }
    async fn mark_undeliverable(&self, id: &str, i: usize, why: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        (**self).mark_undeliverable(id, i, why, now).await
    }
    async fn end_undeliverable(&self, id: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        (**self).end_undeliverable(id, now).await
    }
    async fn finish(&self, id: &str, e: Effect, now: DateTime<Utc>) -> Result<(), StoreError> {
        (**self).finish(id, e, now).await
    }
    async fn mark_enqueued(&self, id: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        (**self).mark_enqueued(id, now).await
    }
}

#[async_trait]
impl<T: ExecutionStore> ExecutionStore for Arc<T> {
    async fn begin(&self, id: &str, attempt: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        (**self).begin(id, attempt, now).await
    }
    async fn finish(
        &self,
        id: &str,
        attempt: &str,
        outcome: ExecutionOutcome,
        output: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        ExecutionStore::finish(&**self, id, attempt, outcome, output, now).await
    }
    async fn record_rejection(&self, id: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        (**self).record_rejection(id, now).await
    }
}

#[async_trait]
impl<T: Outbox> Outbox for Arc<T> {
    async fn due(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<(String, OutboxEvent)>, StoreError> {
        (**self).due(now, limit).await
    }
    async fn postpone(&self, id: &str, e: OutboxEvent, until: DateTime<Utc>) -> Result<(), StoreError> {
        (**self).postpone(id, e, until).await
    }
    async fn clear(&self, id: &str, e: OutboxEvent) -> Result<(), StoreError> {
        (**self).clear(id, e).await
    }
}

#[async_trait]
impl<T: Mailer> Mailer for Arc<T> {
    async fn send(&self, email: &OutgoingEmail) -> Result<(), MailError> {
        (**self).send(email).await
    }
}

#[async_trait]
impl<T: DecisionQueue> DecisionQueue for Arc<T> {
    async fn send(&self, message: &Envelope<DecisionMade>) -> Result<(), EnqueueError> {
        (**self).send(message).await
    }
}
