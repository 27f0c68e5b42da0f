//! The sparse `pending-since` index (the pending contacts by state and by when they
//! were first cached): the stuck check's read; and the record of an operator's redrive.

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};

use super::item::{attr, s, ts};
use super::{sdk_err, DynamoContactStore, PENDING_SINCE_INDEX};
use crate::contact::ContactId;
use crate::ports::StoreError;
use crate::state::ContactState;

impl DynamoContactStore {
    /// Contacts pending in `state` that were first cached before `cutoff`, oldest
    /// first, at most `limit`.
    pub async fn pending_since(
        &self,
        state: ContactState,
        cutoff: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<ContactId>, StoreError> {
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(PENDING_SINCE_INDEX)
                .key_condition_expression("#sweep = :st AND #init < :cutoff")
                .expression_attribute_names("#sweep", attr::SWEEP_STATE)
                .expression_attribute_names("#init", attr::INITIALISED_AT)
                .expression_attribute_values(":st", s(state.as_str()))
                .expression_attribute_values(":cutoff", ts(cutoff))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| sdk_err("Query", &e))?;
            for item in page.items() {
                let id = item.get(attr::CONTACT_ID).and_then(|v| v.as_s().ok());
                let id = id
                    .and_then(|id| ContactId::parse(id).ok())
                    .ok_or_else(|| StoreError::malformed("contact", "index entry without a contact id"))?;
                out.push(id);
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

    /// Appends an operator's redrive to the contact's record. False if there is no
    /// such contact.
    pub async fn record_redrive(&self, id: &ContactId, redrive: &kit::redrive::Redrive) -> Result<bool, StoreError> {
        let entry = AttributeValue::M(
            [
                ("at".to_owned(), ts(redrive.at)),
                ("by".to_owned(), s(redrive.by.as_str())),
                ("step".to_owned(), s(redrive.step.as_str())),
            ]
            .into_iter()
            .collect(),
        );
        let update = format!("SET {r} = list_append(if_not_exists({r}, :empty), :entry)", r = attr::REDRIVES);
        let condition = "attribute_exists(#id)";
        self.update(
            id.as_str(),
            update,
            condition,
            vec![(":empty", AttributeValue::L(Vec::new())), (":entry", AttributeValue::L(vec![entry]))],
        )
        .await
    }
}
