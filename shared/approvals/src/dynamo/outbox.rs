//! The sparse `outbox` index: requests whose announcement (`approval.requested`,
//! `approval.decided`) the consuming step has not confirmed yet. The API writes the
//! entry in the same write as the state change, so a crash between that write and
//! the SNS publish loses nothing: the sweep re-publishes what is due.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};

use super::keys::*;
use super::{conditional, ms, s, sdk_err, DynamoApprovalStore};
use crate::ports::{Outbox, StoreError};
use crate::state::OutboxEvent;

/// Which announcements a sweep repairs first. Decisions: the on-prem service waits
/// for each, and there are few. During an SES outage `approval.requested` entries
/// pile up by the hundred (every email step retrying), and read first they would
/// fill every sweep's limit and hold a lost decision back until the outage ends.
pub const SWEEP_ORDER: [OutboxEvent; 2] = [OutboxEvent::Decided, OutboxEvent::Requested];

#[async_trait]
impl Outbox for DynamoApprovalStore {
    async fn due(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<(String, OutboxEvent)>, StoreError> {
        let mut out = Vec::new();
        for event in SWEEP_ORDER {
            let left = limit.saturating_sub(out.len());
            if left == 0 {
                break;
            }
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(OUTBOX_INDEX)
                .key_condition_expression("#ob = :event AND #obd <= :now")
                .expression_attribute_names("#ob", OUTBOX)
                .expression_attribute_names("#obd", OUTBOX_DUE)
                .expression_attribute_values(":event", s(event.as_str()))
                .expression_attribute_values(":now", ms(now))
                .limit(i32::try_from(left).unwrap_or(i32::MAX))
                .send()
                .await
                .map_err(|e| sdk_err("Query", &e))?;
            for item in page.items() {
                if let Some(AttributeValue::S(id)) = item.get(REQUEST_ID) {
                    out.push((id.clone(), event));
                }
            }
        }
        Ok(out)
    }

    async fn postpone(&self, request_id: &str, event: OutboxEvent, until: DateTime<Utc>) -> Result<(), StoreError> {
        let update = self
            .update(request_id)
            .update_expression("SET #obd = :until")
            .condition_expression("#ob = :event")
            .expression_attribute_names("#ob", OUTBOX)
            .expression_attribute_names("#obd", OUTBOX_DUE)
            .expression_attribute_values(":event", s(event.as_str()))
            .expression_attribute_values(":until", ms(until));
        conditional(update).await.map(|_| ())
    }

    async fn clear(&self, request_id: &str, event: OutboxEvent) -> Result<(), StoreError> {
        let write = |with_wait: bool| {
            let update = self
                .update(request_id)
                .expression_attribute_names("#ob", OUTBOX)
                .expression_attribute_names("#obd", OUTBOX_DUE)
                .expression_attribute_values(":event", s(event.as_str()));
            if with_wait {
                // The wait for the announced step ends with it, if it is still that wait.
                update
                    .update_expression("REMOVE #ob, #obd, #aw, #aws")
                    .condition_expression("#ob = :event AND (attribute_not_exists(#aw) OR #aw = :step)")
                    .expression_attribute_names("#aw", AWAITING)
                    .expression_attribute_names("#aws", AWAITING_SINCE)
                    .expression_attribute_values(":step", s(event.awaited().as_str()))
            } else {
                update.update_expression("REMOVE #ob, #obd").condition_expression("#ob = :event")
            }
        };
        if !conditional(write(true)).await? {
            conditional(write(false)).await?;
        }
        Ok(())
    }
}
