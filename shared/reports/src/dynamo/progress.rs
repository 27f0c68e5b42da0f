//! The later steps' writes: ticket, effect claims and ids, the fan-in, failures.
//! Each is one conditional update; none reads first.

use activity::keys as ak;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::ReturnValue;
use chrono::{DateTime, Utc};
use futures::{StreamExt, TryStreamExt};
use tracing::warn;
use uuid::Uuid;

use super::keys::*;
use super::read::report_from;
use super::{condition_failed, n, s, sdk_err, ts, DynamoReportStore};
use crate::ports::{ClaimOutcome, MarkOutcome, ReportReader, ReportStore, StoreError, TicketRecorded};
use crate::report::{Effect, Failure, Report, ReportStatus};
use crate::request::ReportRequest;

/// Event items updated at once when recording a ticket.
const EVENT_UPDATE_CONCURRENCY: usize = 10;

fn status(v: ReportStatus) -> aws_sdk_dynamodb::types::AttributeValue {
    s(v.as_str())
}

impl DynamoReportStore {
    /// The ticket id on one event item of this report.
    async fn ticket_on_event(
        &self,
        req: &ReportRequest,
        event: &activity::EventId,
        ticket_id: u64,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.activity_table)
            .key(ak::PK, s(ak::user_pk(&req.user_id)))
            .key(ak::SK, s(ak::event_sk(event)))
            .update_expression("SET #tid = :tid")
            .condition_expression("#rid = :rid")
            .expression_attribute_names("#tid", TICKET_ID)
            .expression_attribute_names("#rid", REPORT_ID)
            .expression_attribute_values(":tid", n(ticket_id))
            .expression_attribute_values(":rid", s(req.report_id.to_string()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err) if condition_failed(&err) => {
                // Marked by step 1 in the same transaction as the report: cannot happen
                // unless the item was changed by hand. Say so; do not fail the report.
                warn!(event_id = %event, "event is not marked with this report; ticket id not written to it");
                Ok(())
            }
            Err(err) => Err(sdk_err("UpdateItem", &err)),
        }
    }
}

#[async_trait]
impl ReportStore for DynamoReportStore {
    async fn mark_reported(
        &self,
        req: &ReportRequest,
        correlation_id: &str,
        now: DateTime<Utc>,
    ) -> Result<MarkOutcome, StoreError> {
        self.mark(req, correlation_id, now).await
    }

    async fn reject(
        &self,
        req: &ReportRequest,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Report>, StoreError> {
        self.put_rejected(req, reason, now).await
    }

    async fn get(&self, report_id: &Uuid) -> Result<Option<Report>, StoreError> {
        self.read_report(report_id).await
    }

    async fn record_ticket(
        &self,
        req: &ReportRequest,
        ticket_id: u64,
        now: DateTime<Utc>,
    ) -> Result<TicketRecorded, StoreError> {
        let updates: Vec<_> = req.event_ids.iter().map(|event| self.ticket_on_event(req, event, ticket_id)).collect();
        futures::stream::iter(updates).buffer_unordered(EVENT_UPDATE_CONCURRENCY).try_collect::<Vec<()>>().await?;
        let result = self
            .client
            .update_item()
            .table_name(&self.reports_table)
            .key(REPORT_ID, s(req.report_id.to_string()))
            .update_expression("SET #tid = :tid, #tat = if_not_exists(#tat, :now), #st = :tc REMOVE #failure")
            .condition_expression(
                "attribute_exists(#rid) AND (attribute_not_exists(#tid) OR #tid = :tid) AND #st IN (:requested, :failed, :tc)",
            )
            .expression_attribute_names("#rid", REPORT_ID)
            .expression_attribute_names("#tid", TICKET_ID)
            .expression_attribute_names("#tat", TICKET_CREATED_AT)
            .expression_attribute_names("#st", STATUS)
            .expression_attribute_names("#failure", FAILURE)
            .expression_attribute_values(":tid", n(ticket_id))
            .expression_attribute_values(":now", ts(now))
            .expression_attribute_values(":tc", status(ReportStatus::TicketCreated))
            .expression_attribute_values(":requested", status(ReportStatus::Requested))
            .expression_attribute_values(":failed", status(ReportStatus::Failed))
            .send()
            .await;
        match result {
            Ok(_) => Ok(TicketRecorded::Recorded),
            Err(err) if condition_failed(&err) => match self.read_report(&req.report_id).await? {
                // Recorded by a twin attempt, and the report has moved on since.
                Some(Report { ticket_id: Some(t), .. }) if t == ticket_id => Ok(TicketRecorded::Recorded),
                Some(Report { ticket_id: Some(t), .. }) => Ok(TicketRecorded::OtherTicket(t)),
                Some(r) => Err(StoreError::malformed(
                    "report",
                    format!("report in status {} cannot take a ticket", r.status.as_str()),
                )),
                None => Err(StoreError::malformed("report", "report vanished while recording its ticket")),
            },
            Err(err) => Err(sdk_err("UpdateItem", &err)),
        }
    }

    async fn claim(
        &self,
        report_id: &Uuid,
        effect: Effect,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<ClaimOutcome, StoreError> {
        let a = effect_attrs(effect);
        let result = self
            .client
            .update_item()
            .table_name(&self.reports_table)
            .key(REPORT_ID, s(report_id.to_string()))
            .update_expression("SET #cu = :until")
            .condition_expression(
                "attribute_exists(#rid) AND attribute_not_exists(#id) AND (attribute_not_exists(#cu) OR #cu < :now)",
            )
            .expression_attribute_names("#rid", REPORT_ID)
            .expression_attribute_names("#id", a.id)
            .expression_attribute_names("#cu", a.claim_until)
            .expression_attribute_values(":until", n(until.timestamp_millis()))
            .expression_attribute_values(":now", n(now.timestamp_millis()))
            .return_values(ReturnValue::AllOld)
            .send()
            .await;
        match result {
            Ok(out) => {
                let old = out.attributes.unwrap_or_default();
                // An expired claim means an attempt died mid-way; the flag, that one
                // timed out after sending. Either way the effect may have happened.
                let after_uncertain = old.contains_key(a.claim_until)
                    || old.get(a.uncertain).and_then(|v| v.as_bool().ok()).copied().unwrap_or(false);
                Ok(ClaimOutcome::Claimed { after_uncertain })
            }
            Err(err) if condition_failed(&err) => Ok(match self.read_report(report_id).await? {
                None => ClaimOutcome::Missing,
                Some(r) if r.effect_id(effect).is_some() => ClaimOutcome::AlreadyDone(Box::new(r)),
                Some(_) => ClaimOutcome::Busy,
            }),
            Err(err) => Err(sdk_err("UpdateItem", &err)),
        }
    }

    async fn release(&self, report_id: &Uuid, effect: Effect, uncertain: bool) -> Result<(), StoreError> {
        let a = effect_attrs(effect);
        let mut update = self
            .client
            .update_item()
            .table_name(&self.reports_table)
            .key(REPORT_ID, s(report_id.to_string()))
            .expression_attribute_names("#cu", a.claim_until)
            .condition_expression("attribute_exists(#cu)");
        update = if uncertain {
            update
                .update_expression("REMOVE #cu SET #unc = :t")
                .expression_attribute_names("#unc", a.uncertain)
                .expression_attribute_values(":t", aws_sdk_dynamodb::types::AttributeValue::Bool(true))
        } else {
            update.update_expression("REMOVE #cu")
        };
        match update.send().await {
            Ok(_) => Ok(()),
            Err(err) if condition_failed(&err) => Ok(()),
            Err(err) => Err(sdk_err("UpdateItem", &err)),
        }
    }

    async fn record_effect(
        &self,
        report_id: &Uuid,
        effect: Effect,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<Report, StoreError> {
        let a = effect_attrs(effect);
        let out = self
            .client
            .update_item()
            .table_name(&self.reports_table)
            .key(REPORT_ID, s(report_id.to_string()))
            // The first id recorded stays: a late twin cannot replace it.
            .update_expression("SET #id = if_not_exists(#id, :id), #at = if_not_exists(#at, :now) REMOVE #cu, #unc")
            .condition_expression("attribute_exists(#rid)")
            .expression_attribute_names("#rid", REPORT_ID)
            .expression_attribute_names("#id", a.id)
            .expression_attribute_names("#at", a.at)
            .expression_attribute_names("#cu", a.claim_until)
            .expression_attribute_names("#unc", a.uncertain)
            .expression_attribute_values(":id", s(id))
            .expression_attribute_values(":now", ts(now))
            .return_values(ReturnValue::AllNew)
            .send()
            .await
            .map_err(|e| sdk_err("UpdateItem", &e))?;
        report_from(out.attributes.unwrap_or_default())
    }

    async fn complete(&self, report_id: &Uuid, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.reports_table)
            .key(REPORT_ID, s(report_id.to_string()))
            // Finished: the email it kept for a redrive goes too.
            .update_expression("SET #st = :completed, #cat = :now REMOVE #failure, #shard, #since, #email")
            .condition_expression(
                "attribute_exists(#tid) AND attribute_exists(#txma) AND attribute_exists(#nid) AND NOT #st IN (:completed, :rejected)",
            )
            .expression_attribute_names("#st", STATUS)
            .expression_attribute_names("#cat", COMPLETED_AT)
            .expression_attribute_names("#failure", FAILURE)
            .expression_attribute_names("#shard", OPEN_SHARD)
            .expression_attribute_names("#since", OPEN_SINCE)
            .expression_attribute_names("#email", EMAIL)
            .expression_attribute_names("#tid", TICKET_ID)
            .expression_attribute_names("#txma", TXMA_EVENT_ID)
            .expression_attribute_names("#nid", NOTIFICATION_ID)
            .expression_attribute_values(":completed", status(ReportStatus::Completed))
            .expression_attribute_values(":rejected", status(ReportStatus::Rejected))
            .expression_attribute_values(":now", ts(now))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(err) if condition_failed(&err) => Ok(false),
            Err(err) => Err(sdk_err("UpdateItem", &err)),
        }
    }

    async fn mark_failed(&self, report_id: &Uuid, failure: &Failure) -> Result<(), StoreError> {
        let value =
            serde_dynamo::to_attribute_value(failure).map_err(|e| StoreError::malformed("report", e.to_string()))?;
        let result = self
            .client
            .update_item()
            .table_name(&self.reports_table)
            .key(REPORT_ID, s(report_id.to_string()))
            .update_expression("SET #st = :failed, #failure = :f")
            .condition_expression("attribute_exists(#rid) AND NOT #st IN (:completed, :rejected)")
            .expression_attribute_names("#rid", REPORT_ID)
            .expression_attribute_names("#st", STATUS)
            .expression_attribute_names("#failure", FAILURE)
            .expression_attribute_values(":failed", status(ReportStatus::Failed))
            .expression_attribute_values(":f", value)
            .expression_attribute_values(":completed", status(ReportStatus::Completed))
            .expression_attribute_values(":rejected", status(ReportStatus::Rejected))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err) if condition_failed(&err) => Ok(()),
            Err(err) => Err(sdk_err("UpdateItem", &err)),
        }
    }
}

#[async_trait]
impl ReportReader for DynamoReportStore {
    async fn get(&self, report_id: &Uuid) -> Result<Option<Report>, StoreError> {
        self.read_report(report_id).await
    }

    async fn statuses(&self, report_ids: &[String]) -> Result<Vec<(String, ReportStatus)>, StoreError> {
        self.read_statuses(report_ids).await
    }
}
