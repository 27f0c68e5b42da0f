//! The on-prem processor's reports: APPROVED → EXECUTING → EXECUTED | FAILED, and
//! "rejection seen". Each is one conditional write guarded by the current status
//! (and, once executing, by the attempt that began).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::item::history_entry;
use super::keys::*;
use super::{conditional, ms, s, ts, DynamoApprovalStore};
use crate::ports::{ExecutionStore, StoreError};
use crate::rules::ExecutionOutcome;
use crate::state::{AwaitedStep, HistoryEntry, Status};

/// Cuts `text` to at most `max` bytes on a character boundary.
pub(crate) fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[async_trait]
impl ExecutionStore for DynamoApprovalStore {
    async fn begin(&self, request_id: &str, attempt_id: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let entry = HistoryEntry::new(now, Status::Executing.as_str(), Some(format!("attempt {attempt_id}")));
        let update = self
            .update(request_id)
            .update_expression(
                "SET #st = :executing, #ea = :attempt, #es = :now, #hist = list_append(#hist, :entry), \
                 #aw = :execution, #aws = :now_ms",
            )
            .condition_expression("#st = :approved")
            .expression_attribute_names("#aw", AWAITING)
            .expression_attribute_names("#aws", AWAITING_SINCE)
            .expression_attribute_values(":execution", s(AwaitedStep::Execution.as_str()))
            .expression_attribute_values(":now_ms", ms(now))
            .expression_attribute_names("#st", STATUS)
            .expression_attribute_names("#ea", EXECUTION_ATTEMPT)
            .expression_attribute_names("#es", EXECUTION_STARTED_AT)
            .expression_attribute_names("#hist", HISTORY)
            .expression_attribute_values(":executing", s(Status::Executing.as_str()))
            .expression_attribute_values(":approved", s(Status::Approved.as_str()))
            .expression_attribute_values(":attempt", s(attempt_id))
            .expression_attribute_values(":now", ts(now))
            .expression_attribute_values(":entry", history_entry(&entry));
        conditional(update).await
    }

    async fn finish(
        &self,
        request_id: &str,
        attempt_id: &str,
        outcome: ExecutionOutcome,
        output: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let status = outcome.status();
        let entry = HistoryEntry::new(now, status.as_str(), Some(format!("attempt {attempt_id}")));
        let update = self
            .update(request_id)
            .update_expression(
                "SET #st = :outcome, #ef = :now, #eo = :output, #hist = list_append(#hist, :entry) REMOVE #aw, #aws",
            )
            .condition_expression("#st = :executing AND #ea = :attempt")
            .expression_attribute_names("#aw", AWAITING)
            .expression_attribute_names("#aws", AWAITING_SINCE)
            .expression_attribute_names("#st", STATUS)
            .expression_attribute_names("#ea", EXECUTION_ATTEMPT)
            .expression_attribute_names("#ef", EXECUTION_FINISHED_AT)
            .expression_attribute_names("#eo", EXECUTION_OUTPUT)
            .expression_attribute_names("#hist", HISTORY)
            .expression_attribute_values(":outcome", s(status.as_str()))
            .expression_attribute_values(":executing", s(Status::Executing.as_str()))
            .expression_attribute_values(":attempt", s(attempt_id))
            .expression_attribute_values(":output", s(truncate(output, MAX_OUTPUT_BYTES)))
            .expression_attribute_values(":now", ts(now))
            .expression_attribute_values(":entry", history_entry(&entry));
        conditional(update).await
    }

    async fn record_rejection(&self, request_id: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let entry = HistoryEntry::new(now, "rejection_recorded", Some("not executed".to_owned()));
        let update = self
            .update(request_id)
            .update_expression("SET #rr = :now, #hist = list_append(#hist, :entry) REMOVE #aw, #aws")
            .condition_expression("#st = :rejected AND attribute_not_exists(#rr)")
            .expression_attribute_names("#aw", AWAITING)
            .expression_attribute_names("#aws", AWAITING_SINCE)
            .expression_attribute_names("#st", STATUS)
            .expression_attribute_names("#rr", REJECTION_RECORDED_AT)
            .expression_attribute_names("#hist", HISTORY)
            .expression_attribute_values(":rejected", s(Status::Rejected.as_str()))
            .expression_attribute_values(":now", ts(now))
            .expression_attribute_values(":entry", history_entry(&entry));
        conditional(update).await
    }
}

#[cfg(test)]
mod tests {
    use super::truncate;

    #[test]
    fn output_is_cut_on_a_character_boundary() {
        assert_eq!(truncate("héllo", 2), "h");
        assert_eq!(truncate("héllo", 3), "hé");
        assert_eq!(truncate("abc", 10), "abc");
    }
}
