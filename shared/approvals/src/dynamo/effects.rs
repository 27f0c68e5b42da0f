//! The steps' writes: effect claims, token hashes, per-approver marks, and the
//! record that the decision is on the FIFO queue.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::item::history_entry;
use super::keys::{approver, *};
use super::{conditional, ms, s, ts, DynamoApprovalStore};
use crate::ports::{Effect, EffectStore, StoreError};
use crate::state::{AwaitedStep, HistoryEntry, Status};
use crate::token::TokenHash;

/// Per effect: its claim attribute and its "done" attribute.
fn attrs(effect: Effect) -> (&'static str, &'static str) {
    match effect {
        Effect::Emails => (EMAILS_CLAIM, EMAILS_SENT_AT),
        Effect::Notify => (NOTIFY_CLAIM, APPROVERS_NOTIFIED_AT),
    }
}

fn history_event(effect: Effect) -> &'static str {
    match effect {
        Effect::Emails => "approvers_emailed",
        Effect::Notify => "others_notified",
    }
}

impl DynamoApprovalStore {
    async fn mark_approver(
        &self,
        request_id: &str,
        index: usize,
        field: &'static str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let update = self
            .update(request_id)
            .update_expression("SET #ap.#i.#f = if_not_exists(#ap.#i.#f, :now)")
            .condition_expression("attribute_exists(#ap.#i)")
            .expression_attribute_names("#ap", APPROVERS)
            .expression_attribute_names("#i", index.to_string())
            .expression_attribute_names("#f", field)
            .expression_attribute_values(":now", ts(now));
        // An approver that does not exist has nothing to mark: the request changed
        // under us only if someone edited it by hand.
        conditional(update).await.map(|_| ())
    }
}

#[async_trait]
impl EffectStore for DynamoApprovalStore {
    async fn claim(
        &self,
        request_id: &str,
        effect: Effect,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let (claim, done) = attrs(effect);
        let update = self
            .update(request_id)
            .update_expression("SET #c = :until")
            .condition_expression(
                "attribute_exists(#rid) AND attribute_not_exists(#done) AND (attribute_not_exists(#c) OR #c < :now)",
            )
            .expression_attribute_names("#rid", REQUEST_ID)
            .expression_attribute_names("#c", claim)
            .expression_attribute_names("#done", done)
            .expression_attribute_values(":until", ms(until))
            .expression_attribute_values(":now", ms(now));
        conditional(update).await
    }

    async fn release(&self, request_id: &str, effect: Effect) -> Result<(), StoreError> {
        let (claim, _) = attrs(effect);
        let update = self
            .update(request_id)
            .update_expression("REMOVE #c")
            .condition_expression("attribute_exists(#c)")
            .expression_attribute_names("#c", claim);
        conditional(update).await.map(|_| ())
    }

    async fn set_token(
        &self,
        request_id: &str,
        index: usize,
        hash: &TokenHash,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let update = self
            .update(request_id)
            .update_expression("SET #ap.#i.#th = :hash, #ap.#i.#minted = :now")
            .condition_expression(
                "#st = :pending AND #exp > :now_ms AND attribute_exists(#ap.#i) \
                 AND attribute_not_exists(#ap.#i.#emailed) AND attribute_not_exists(#ap.#i.#rev) \
                 AND attribute_not_exists(#ap.#i.#und)",
            )
            .expression_attribute_names("#st", STATUS)
            .expression_attribute_names("#exp", EXPIRES_AT_MS)
            .expression_attribute_names("#ap", APPROVERS)
            .expression_attribute_names("#i", index.to_string())
            .expression_attribute_names("#th", approver::TOKEN_HASH)
            .expression_attribute_names("#minted", approver::MINTED_AT)
            .expression_attribute_names("#emailed", approver::EMAILED_AT)
            .expression_attribute_names("#rev", approver::REVOKED_AT)
            .expression_attribute_names("#und", approver::UNDELIVERABLE_AT)
            .expression_attribute_values(":hash", s(hash.to_hex()))
            .expression_attribute_values(":now", ts(now))
            .expression_attribute_values(":now_ms", ms(now))
            .expression_attribute_values(":pending", s(Status::Pending.as_str()));
        conditional(update).await
    }

    async fn mark_emailed(&self, request_id: &str, index: usize, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.mark_approver(request_id, index, approver::EMAILED_AT, now).await
    }

    async fn mark_notified(&self, request_id: &str, index: usize, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.mark_approver(request_id, index, approver::NOTIFIED_AT, now).await
    }

    async fn mark_undeliverable(
        &self,
        request_id: &str,
        index: usize,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let entry = HistoryEntry::new(now, "approver_undeliverable", Some(format!("approver #{index}: {reason}")));
        // The unsent token goes too: nobody holds it, and nothing should match it.
        let update = self
            .update(request_id)
            .update_expression(
                "SET #ap.#i.#und = :now, #ap.#i.#why = :reason, #hist = list_append(#hist, :entry) \
                 REMOVE #ap.#i.#th, #ap.#i.#minted",
            )
            .condition_expression(
                "attribute_exists(#ap.#i) AND attribute_not_exists(#ap.#i.#emailed) \
                 AND attribute_not_exists(#ap.#i.#und)",
            )
            .expression_attribute_names("#ap", APPROVERS)
            .expression_attribute_names("#i", index.to_string())
            .expression_attribute_names("#und", approver::UNDELIVERABLE_AT)
            .expression_attribute_names("#why", approver::UNDELIVERABLE_REASON)
            .expression_attribute_names("#th", approver::TOKEN_HASH)
            .expression_attribute_names("#minted", approver::MINTED_AT)
            .expression_attribute_names("#emailed", approver::EMAILED_AT)
            .expression_attribute_names("#hist", HISTORY)
            .expression_attribute_values(":now", ts(now))
            .expression_attribute_values(":reason", s(reason))
            .expression_attribute_values(":entry", history_entry(&entry));
        // Marked already (a redelivery), or emailed after all: nothing to change.
        conditional(update).await.map(|_| ())
    }

    async fn end_undeliverable(&self, request_id: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let entry = HistoryEntry::new(
            now,
            Status::Undeliverable.as_str(),
            Some("SES refused every approver's address".to_owned()),
        );
        let update = self
            .update(request_id)
            .update_expression(
                "SET #st = :undeliverable, #hist = list_append(#hist, :entry) REMOVE #ob, #obd, #c, #aw, #aws",
            )
            .expression_attribute_names("#aw", AWAITING)
            .expression_attribute_names("#aws", AWAITING_SINCE)
            .condition_expression("#st = :pending")
            .expression_attribute_names("#st", STATUS)
            .expression_attribute_names("#hist", HISTORY)
            .expression_attribute_names("#ob", OUTBOX)
            .expression_attribute_names("#obd", OUTBOX_DUE)
            .expression_attribute_names("#c", EMAILS_CLAIM)
            .expression_attribute_values(":undeliverable", s(Status::Undeliverable.as_str()))
            .expression_attribute_values(":pending", s(Status::Pending.as_str()))
            .expression_attribute_values(":entry", history_entry(&entry));
        conditional(update).await
    }

    async fn finish(&self, request_id: &str, effect: Effect, now: DateTime<Utc>) -> Result<(), StoreError> {
        let (claim, done) = attrs(effect);
        let entry = HistoryEntry::new(now, history_event(effect), None);
        let update = self
            .update(request_id)
            .update_expression("SET #done = :now, #hist = list_append(#hist, :entry) REMOVE #c")
            .condition_expression("attribute_exists(#rid) AND attribute_not_exists(#done)")
            .expression_attribute_names("#rid", REQUEST_ID)
            .expression_attribute_names("#done", done)
            .expression_attribute_names("#hist", HISTORY)
            .expression_attribute_names("#c", claim)
            .expression_attribute_values(":now", ts(now))
            .expression_attribute_values(":entry", history_entry(&entry));
        if !conditional(update).await? {
            // Finished by a twin already: only our claim is left to drop.
            self.release(request_id, effect).await?;
        }
        Ok(())
    }

    async fn mark_enqueued(&self, request_id: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let entry = HistoryEntry::new(now, "decision_enqueued", None);
        let write = |waits: bool| {
            let mut update = self
                .update(request_id)
                .expression_attribute_names("#rid", REQUEST_ID)
                .expression_attribute_names("#enq", DECISION_ENQUEUED_AT)
                .expression_attribute_names("#hist", HISTORY)
                .expression_attribute_names("#ob", OUTBOX)
                .expression_attribute_names("#obd", OUTBOX_DUE)
                .expression_attribute_values(":now", ts(now))
                .expression_attribute_values(":entry", history_entry(&entry));
            let condition = "attribute_exists(#rid) AND attribute_not_exists(#enq)";
            if waits {
                // Now the processor is awaited, unless it has been already (it can
                // take the message off the queue before this write).
                update = update
                    .update_expression(
                        "SET #enq = :now, #hist = list_append(#hist, :entry), #aw = :processor, #aws = :now_ms \
                         REMOVE #ob, #obd",
                    )
                    .condition_expression(format!(
                        "{condition} AND ((#st = :approved AND attribute_not_exists(#ea)) \
                         OR (#st = :rejected AND attribute_not_exists(#rr)))"
                    ))
                    .expression_attribute_names("#aw", AWAITING)
                    .expression_attribute_names("#aws", AWAITING_SINCE)
                    .expression_attribute_names("#st", STATUS)
                    .expression_attribute_names("#ea", EXECUTION_ATTEMPT)
                    .expression_attribute_names("#rr", REJECTION_RECORDED_AT)
                    .expression_attribute_values(":processor", s(AwaitedStep::Processor.as_str()))
                    .expression_attribute_values(":now_ms", ms(now))
                    .expression_attribute_values(":approved", s(Status::Approved.as_str()))
                    .expression_attribute_values(":rejected", s(Status::Rejected.as_str()));
            } else {
                update = update
                    .update_expression("SET #enq = :now, #hist = list_append(#hist, :entry) REMOVE #ob, #obd")
                    .condition_expression(condition);
            }
            update
        };
        if conditional(write(true)).await? {
            return Ok(true);
        }
        // Recorded already (a twin), or the processor got there first: its own
        // writes keep the wait; record the enqueue without touching it.
        conditional(write(false)).await
    }
}
