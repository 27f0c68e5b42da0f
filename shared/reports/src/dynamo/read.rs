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
