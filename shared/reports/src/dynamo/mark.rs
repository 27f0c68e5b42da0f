//! Step 1's writes: the marking transaction, and the rejection.

use std::collections::HashMap;

use activity::keys as ak;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, Put, TransactWriteItem, Update};
use chrono::{DateTime, Utc};

use super::keys::*;
use super::{build_err, condition_failed, s, sdk_err, ts, DynamoReportStore};
use crate::ports::{EventConflict, MarkOutcome, StoreError};
use crate::report::{Report, ReportStatus};
use crate::request::ReportRequest;

type Item = HashMap<String, AttributeValue>;

impl DynamoReportStore {
    fn report_item(&self, req: &ReportRequest, status: ReportStatus, now: DateTime<Utc>) -> Item {
        let events = req.event_ids.iter().map(|e| s(e.as_str())).collect();
        HashMap::from([
            (REPORT_ID.to_owned(), s(req.report_id.to_string())),
            (USER_ID.to_owned(), s(req.user_id.as_str())),
            (STATUS.to_owned(), s(status.as_str())),
            (EVENT_IDS.to_owned(), AttributeValue::L(events)),
            (REPORTED_AT.to_owned(), ts(req.reported_at)),
            (REQUESTED_AT.to_owned(), ts(now)),
            (CONTENT_HASH.to_owned(), s(req.content_hash())),
        ])
    }

    fn mark_event(
        &self,
        req: &ReportRequest,
        event: &activity::EventId,
        now: DateTime<Utc>,
    ) -> Result<TransactWriteItem, StoreError> {
        let update = Update::builder()
            .table_name(&self.activity_table)
            .key(ak::PK, s(ak::user_pk(&req.user_id)))
            .key(ak::SK, s(ak::event_sk(event)))
            .update_expression("SET #rid = :rid, #rat = :now")
            // The event must exist in this user's log (so foreign events fail) and be unreported.
            .condition_expression("attribute_exists(#pk) AND attribute_not_exists(#rid)")
            .expression_attribute_names("#pk", ak::PK)
            .expression_attribute_names("#rid", REPORT_ID)
            .expression_attribute_names("#rat", REPORT_REQUESTED_AT)
            .expression_attribute_values(":rid", s(req.report_id.to_string()))
            .expression_attribute_values(":now", ts(now))
            .build()
            .map_err(|e| build_err("TransactWriteItems", e))?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    pub(super) async fn mark(
        &self,
        req: &ReportRequest,
        correlation_id: &str,
        now: DateTime<Utc>,
    ) -> Result<MarkOutcome, StoreError> {
        let mut item = self.report_item(req, ReportStatus::Requested, now);
        item.insert(OPEN_SHARD.to_owned(), s(OPEN_SHARD_VALUE));
        item.insert(OPEN_SINCE.to_owned(), ts(now));
        // Kept while the report is open (removed when it completes): what a redrive
        // needs to rebuild its messages; the email is in no other table.
        item.insert(EMAIL.to_owned(), s(req.email.as_str()));
        if !correlation_id.is_empty() {
            item.insert(CORRELATION_ID.to_owned(), s(correlation_id));
        }
        let put = Put::builder()
            .table_name(&self.reports_table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#rid)")
            .expression_attribute_names("#rid", REPORT_ID)
            .build()
            .map_err(|e| build_err("TransactWriteItems", e))?;
        let mut items = vec![TransactWriteItem::builder().put(put).build()];
        for event in &req.event_ids {
            items.push(self.mark_event(req, event, now)?);
        }
        let result = self.client.transact_write_items().set_transact_items(Some(items)).send().await;
        match result {
            Ok(_) => Ok(MarkOutcome::Marked),
            Err(err) if err.as_service_error().is_some_and(lost_a_condition) => {
                // Which condition? Read rather than trust positions in the reasons.
                if let Some(existing) = self.read_report(&req.report_id).await? {
                    return Ok(MarkOutcome::Existing(Box::new(existing)));
                }
                let conflicts = self.conflicts(req).await?;
                if conflicts.is_empty() {
                    // The blocking write has gone away since: a race, so try again.
                    return Err(StoreError::Sdk {
                        operation: "TransactWriteItems",
                        failure: kit::sdk::SdkFailure::retryable(
                            "transaction cancelled by a write that has since changed",
                        ),
                    });
                }
                Ok(MarkOutcome::Conflicts(conflicts))
            }
            Err(err) => Err(sdk_err("TransactWriteItems", &err)),
        }
    }

    /// Which listed events are missing from the user's log or already reported.
    async fn conflicts(&self, req: &ReportRequest) -> Result<Vec<EventConflict>, StoreError> {
        let keys: Vec<Item> = req
            .event_ids
            .iter()
            .map(|e| {
                HashMap::from([
                    (ak::PK.to_owned(), s(ak::user_pk(&req.user_id))),
                    (ak::SK.to_owned(), s(ak::event_sk(e))),
                ])
            })
            .collect();
        let mut found: HashMap<String, Option<String>> = HashMap::new();
        let mut pending = Some(
            KeysAndAttributes::builder()
                .set_keys(Some(keys))
                .projection_expression("#eid, #rid")
                .expression_attribute_names("#eid", ak::EVENT_ID)
                .expression_attribute_names("#rid", REPORT_ID)
                .consistent_read(true)
                .build()
                .map_err(|e| build_err("BatchGetItem", e))?,
        );
        // BatchGetItem may leave keys unprocessed under load: ask again, a few times.
        for _ in 0..5 {
            let Some(request) = pending.take() else { break };
            let out = self
                .client
                .batch_get_item()
                .request_items(&self.activity_table, request)
                .send()
                .await
                .map_err(|e| sdk_err("BatchGetItem", &e))?;
            for item in out.responses.unwrap_or_default().remove(&self.activity_table).unwrap_or_default() {
                let text = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned();
                if let Some(event_id) = text(ak::EVENT_ID) {
                    found.insert(event_id, text(REPORT_ID));
                }
            }
            pending =
                out.unprocessed_keys.and_then(|mut u| u.remove(&self.activity_table)).filter(|k| !k.keys.is_empty());
        }
        if pending.is_some() {
            return Err(StoreError::Sdk {
                operation: "BatchGetItem",
                failure: kit::sdk::SdkFailure::retryable("keys left unprocessed"),
            });
        }
        Ok(conflicts(req, &found))
    }

    pub(super) async fn put_rejected(
        &self,
        req: &ReportRequest,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Report>, StoreError> {
        let mut item = self.report_item(req, ReportStatus::Rejected, now);
        item.insert(REJECTION_REASON.to_owned(), s(reason));
        let result = self
            .client
            .put_item()
            .table_name(&self.reports_table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#rid)")
            .expression_attribute_names("#rid", REPORT_ID)
            .send()
            .await;
        match result {
            Ok(_) => Ok(None),
            Err(err) if condition_failed(&err) => self.read_report(&req.report_id).await,
            Err(err) => Err(sdk_err("PutItem", &err)),
        }
    }
}

/// A cancelled transaction because a condition failed (not a conflict or throttle,
/// which are retried as they are).
fn lost_a_condition(err: &TransactWriteItemsError) -> bool {
    let TransactWriteItemsError::TransactionCanceledException(cancelled) = err else {
        return false;
    };
    let reasons = cancelled.cancellation_reasons();
    reasons.is_empty() || reasons.iter().any(|r| r.code() == Some("ConditionalCheckFailed"))
}

/// Pure: given what the log holds for each listed event, what blocks the report.
fn conflicts(req: &ReportRequest, found: &HashMap<String, Option<String>>) -> Vec<EventConflict> {
    let this = req.report_id.to_string();
    req.event_ids
        .iter()
        .filter_map(|e| {
            let event_id = e.to_string();
            match found.get(e.as_str()) {
                None => Some(EventConflict::NotFound { event_id }),
                Some(Some(by)) if *by != this => Some(EventConflict::AlreadyReported { event_id }),
                Some(_) => None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::ReportSubmission;

    #[test]
    fn missing_and_already_reported_events_are_named_in_order() {
        let req = ReportRequest::parse(ReportSubmission {
            report_id: "8d0c7a4e-3b1f-4f5e-9a61-0c2b8e7d9f10".into(),
            user_id: "u".into(),
            email: "a@b.cd".into(),
            event_ids: vec!["ok".into(), "gone".into(), "taken".into(), "mine".into()],
            reported_at: "2024-06-01T12:00:00Z".parse().unwrap(),
        })
        .unwrap();
        let found = HashMap::from([
            ("ok".to_owned(), None),
            ("taken".to_owned(), Some("other-report".to_owned())),
            ("mine".to_owned(), Some(req.report_id.to_string())),
        ]);
        assert_eq!(
            conflicts(&req, &found),
            vec![
                EventConflict::NotFound { event_id: "gone".into() },
                EventConflict::AlreadyReported { event_id: "taken".into() },
            ]
        );
    }
}
