//! The sparse `awaiting` index: requests that wait for a step of the pipeline (not
//! for a person), by step and since when. The stuck check's only read of this
//! table; and the record an operator's redrive leaves on the item.

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};

use super::item::render;
use super::keys::*;
use super::{conditional, ms, s, sdk_err, DynamoApprovalStore};
use crate::ports::StoreError;
use crate::state::{AwaitedStep, Redrive};

impl DynamoApprovalStore {
    /// Ids of requests waiting for `step` since before `cutoff`, longest first, at
    /// most `limit`.
    pub async fn awaiting_before(
        &self,
        step: AwaitedStep,
        cutoff: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(AWAITING_INDEX)
                .key_condition_expression("#aw = :step AND #aws < :cutoff")
                .expression_attribute_names("#aw", AWAITING)
                .expression_attribute_names("#aws", AWAITING_SINCE)
                .expression_attribute_values(":step", s(step.as_str()))
                .expression_attribute_values(":cutoff", ms(cutoff))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| sdk_err("Query", &e))?;
            for item in page.items() {
                if let Some(AttributeValue::S(id)) = item.get(REQUEST_ID) {
                    out.push(id.clone());
                    if out.len() >= limit {
                        return Ok(out);
                    }
                }
            }
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(out),
            }
        }
    }

    /// Appends an operator's redrive to the request's record. False if there is no
    /// such request.
    pub async fn record_redrive(&self, request_id: &str, redrive: &Redrive) -> Result<bool, StoreError> {
        let entry = AttributeValue::M(
            [
                ("at".to_owned(), s(render(redrive.at))),
                ("by".to_owned(), s(redrive.by.as_str())),
                ("step".to_owned(), s(redrive.step.as_str())),
            ]
            .into_iter()
            .collect(),
        );
        let update = self
            .update(request_id)
            .update_expression("SET #rd = list_append(if_not_exists(#rd, :empty), :entry)")
            .condition_expression("attribute_exists(#rid)")
            .expression_attribute_names("#rd", REDRIVES)
            .expression_attribute_names("#rid", REQUEST_ID)
            .expression_attribute_values(":empty", AttributeValue::L(Vec::new()))
            .expression_attribute_values(":entry", AttributeValue::L(vec![entry]));
        conditional(update).await
    }
}
