//! Reading reports back: one by id, or the statuses of a page's worth.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use uuid::Uuid;

use super::keys::*;
use super::{build_err, s, sdk_err, DynamoReportStore};
use crate::ports::StoreError;
use crate::report::{Report, ReportStatus};

type Item = HashMap<String, AttributeValue>;

/// DynamoDB's BatchGetItem limit.
const BATCH_GET_MAX: usize = 100;

impl DynamoReportStore {
    pub(super) async fn read_report(&self, report_id: &Uuid) -> Result<Option<Report>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.reports_table)
            .key(REPORT_ID, s(report_id.to_string()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_err("GetItem", &e))?;
        out.item.map(report_from).transpose()
    }

    pub(super) async fn read_statuses(&self, ids: &[String]) -> Result<Vec<(String, ReportStatus)>, StoreError> {
        let mut out = Vec::new();
        let mut unique: Vec<&String> = ids.iter().collect();
        unique.sort();
        unique.dedup();
        for chunk in unique.chunks(BATCH_GET_MAX) {
            let keys: Vec<Item> =
                chunk.iter().map(|id| HashMap::from([(REPORT_ID.to_owned(), s(id.as_str()))])).collect();
            let mut pending = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(keys))
                    .projection_expression("#rid, #st")
                    .expression_attribute_names("#rid", REPORT_ID)
                    .expression_attribute_names("#st", STATUS)
                    .build()
                    .map_err(|e| build_err("BatchGetItem", e))?,
            );
            for _ in 0..5 {
                let Some(request) = pending.take() else { break };
                let resp = self
                    .client
                    .batch_get_item()
                    .request_items(&self.reports_table, request)
                    .send()
                    .await
                    .map_err(|e| sdk_err("BatchGetItem", &e))?;
                for item in resp.responses.unwrap_or_default().remove(&self.reports_table).unwrap_or_default() {
                    #[derive(serde::Deserialize)]
                    struct Row {
                        report_id: String,
                        status: ReportStatus,
                    }
                    let row: Row =
                        serde_dynamo::from_item(item).map_err(|e| StoreError::malformed("report", e.to_string()))?;
                    out.push((row.report_id, row.status));
                }
                pending = resp
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(&self.reports_table))
                    .filter(|k| !k.keys.is_empty());
            }
            if pending.is_some() {
                return Err(StoreError::Sdk {
                    operation: "BatchGetItem",
                    failure: kit::sdk::SdkFailure::retryable("keys left unprocessed"),
                });
            }
        }
        Ok(out)
    }
}

impl DynamoReportStore {
    /// Reports still under way that were requested before `cutoff`, oldest first.
    pub async fn open_before(
        &self,
        cutoff: chrono::DateTime<chrono::Utc>,
        limit: usize,
    ) -> Result<Vec<Report>, StoreError> {
        let mut out = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.reports_table)
                .index_name(OPEN_REPORTS_INDEX)
                .key_condition_expression("#shard = :open AND #since < :cutoff")
                .expression_attribute_names("#shard", OPEN_SHARD)
                .expression_attribute_names("#since", OPEN_SINCE)
                .expression_attribute_values(":open", s(OPEN_SHARD_VALUE))
                .expression_attribute_values(":cutoff", super::ts(cutoff))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| sdk_err("Query", &e))?;
            for item in page.items.unwrap_or_default() {
                out.push(report_from(item)?);
                if out.len() >= limit {
                    return Ok(out);
                }
            }
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(out),
            }
        }
    }
}

pub(super) fn report_from(item: Item) -> Result<Report, StoreError> {
    serde_dynamo::from_item(item).map_err(|e| StoreError::malformed("report", format!("report item: {e}")))
}

impl DynamoReportStore {
    /// The email an open report keeps for a redrive (none once it completed, or for
    /// reports marked before it was kept).
    pub async fn stored_email(&self, report_id: &Uuid) -> Result<Option<String>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.reports_table)
            .key(REPORT_ID, s(report_id.to_string()))
            .projection_expression("#email")
            .expression_attribute_names("#email", EMAIL)
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_err("GetItem", &e))?;
        Ok(out.item.and_then(|mut i| i.remove(EMAIL)).and_then(|v| v.as_s().ok().cloned()))
    }

    /// Appends an operator's redrive to the report's record. False if there is no
    /// such report.
    pub async fn record_redrive(&self, report_id: &Uuid, redrive: &kit::redrive::Redrive) -> Result<bool, StoreError> {
        let entry = AttributeValue::M(HashMap::from([
            ("at".to_owned(), super::ts(redrive.at)),
            ("by".to_owned(), s(redrive.by.as_str())),
            ("step".to_owned(), s(redrive.step.as_str())),
        ]));
        let result = self
            .client
            .update_item()
            .table_name(&self.reports_table)
            .key(REPORT_ID, s(report_id.to_string()))
            .update_expression("SET #rd = list_append(if_not_exists(#rd, :empty), :entry)")
            .condition_expression("attribute_exists(#rid)")
            .expression_attribute_names("#rd", REDRIVES)
            .expression_attribute_names("#rid", REPORT_ID)
            .expression_attribute_values(":empty", AttributeValue::L(Vec::new()))
            .expression_attribute_values(":entry", AttributeValue::L(vec![entry]))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(err) if super::condition_failed(&err) => Ok(false),
            Err(err) => Err(sdk_err("UpdateItem", &err)),
        }
    }
}
