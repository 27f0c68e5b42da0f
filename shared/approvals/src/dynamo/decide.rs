//! The decision: one conditional `UpdateItem` on the request item. Its condition
//! is the whole rule — still PENDING, this approver's stored hash is the presented
//! token's, that token not revoked, not expired — and its update sets the decision,
//! marks the token used, revokes every other token, schedules the announcement and
//! appends the history entry. DynamoDB applies it atomically per item, so of any
//! number of concurrent attempts with any tokens exactly one can succeed.

use async_trait::async_trait;

use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;

use super::item::{from_item, history_entry};
use super::keys::{approver, *};
use super::{ms, n, s, sdk_err, ts, DynamoApprovalStore};
use crate::ports::{DecisionStore, DecisionWrite, DecisionWritten, StoreError};
use crate::state::{AwaitedStep, HistoryEntry, OutboxEvent, Status};

/// The update expression for a decision by `approver`, revoking `revoke`.
pub(crate) fn decision_expression(revoke: &[usize]) -> String {
    let mut set = vec![
        "#st = :decision".to_owned(),
        "#dec = :decision".to_owned(),
        "#dat = :now".to_owned(),
        "#dby = :approver".to_owned(),
        "#ap.#i.#used = :now".to_owned(),
        "#ob = :outbox".to_owned(),
        "#obd = :due".to_owned(),
        // The wait for enqueue-decision starts at the announcement's first due time.
        "#aw = :enqueue".to_owned(),
        "#aws = :due".to_owned(),
        "#hist = list_append(#hist, :entry)".to_owned(),
    ];
    for k in 0..revoke.len() {
        set.push(format!("#ap.#r{k}.#rev = :now"));
    }
    format!("SET {}", set.join(", "))
}

pub(crate) const DECISION_CONDITION: &str =
    "#st = :pending AND #ap.#i.#th = :hash AND attribute_not_exists(#ap.#i.#rev) AND #exp > :now_ms";

#[async_trait]
impl DecisionStore for DynamoApprovalStore {
    async fn decide(&self, w: &DecisionWrite<'_>) -> Result<DecisionWritten, StoreError> {
        let entry = HistoryEntry::new(w.now, w.decision.status().as_str(), Some(format!("approver #{}", w.approver)));
        let mut update = self
            .update(w.request_id)
            .update_expression(decision_expression(w.revoke))
            .condition_expression(DECISION_CONDITION)
            .expression_attribute_names("#st", STATUS)
            .expression_attribute_names("#dec", DECISION)
            .expression_attribute_names("#dat", DECIDED_AT)
            .expression_attribute_names("#dby", DECIDED_BY)
            .expression_attribute_names("#ap", APPROVERS)
            .expression_attribute_names("#i", w.approver.to_string())
            .expression_attribute_names("#used", approver::USED_AT)
            .expression_attribute_names("#rev", approver::REVOKED_AT)
            .expression_attribute_names("#th", approver::TOKEN_HASH)
            .expression_attribute_names("#exp", EXPIRES_AT_MS)
            .expression_attribute_names("#ob", OUTBOX)
            .expression_attribute_names("#obd", OUTBOX_DUE)
            .expression_attribute_names("#hist", HISTORY)
            .expression_attribute_names("#aw", AWAITING)
            .expression_attribute_names("#aws", AWAITING_SINCE)
            .expression_attribute_values(":enqueue", s(AwaitedStep::Enqueue.as_str()))
            .expression_attribute_values(":decision", s(w.decision.as_str()))
            .expression_attribute_values(":pending", s(Status::Pending.as_str()))
            .expression_attribute_values(":now", ts(w.now))
            .expression_attribute_values(":now_ms", ms(w.now))
            .expression_attribute_values(":approver", n(w.approver))
            .expression_attribute_values(":hash", s(w.token_hash.to_hex()))
            .expression_attribute_values(":outbox", s(OutboxEvent::Decided.as_str()))
            .expression_attribute_values(":due", ms(w.outbox_due))
            .expression_attribute_values(":entry", history_entry(&entry));
        for (k, other) in w.revoke.iter().enumerate() {
            update = update.expression_attribute_names(format!("#r{k}"), other.to_string());
        }
        // A lost race answers with the item that won it: no second read to say why.
        let update = update.return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        match update.send().await {
            Ok(_) => Ok(DecisionWritten::Won),
            Err(err) => match err.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(failed)) => {
                    let current = failed.item.clone().map(from_item).transpose()?;
                    Ok(DecisionWritten::Lost(current.map(Box::new)))
                }
                _ => Err(sdk_err("UpdateItem", &err)),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_other_token_is_revoked_in_the_same_write() {
        let e = decision_expression(&[0, 2]);
        assert!(e.contains("#ap.#r0.#rev = :now") && e.contains("#ap.#r1.#rev = :now"), "{e}");
        assert!(!e.contains("#r2"), "{e}");
        assert!(DECISION_CONDITION.contains("#st = :pending"));
        assert!(e.contains("#aw = :enqueue") && e.contains("#aws = :due"), "the wait starts in the same write: {e}");
        assert!(DECISION_CONDITION.contains("#exp > :now_ms"), "expiry is part of the condition");
    }
}
