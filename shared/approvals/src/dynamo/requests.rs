//! Creating a request (a conditional put) and reading it back (consistent reads).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::item::{from_item, to_item};
use super::keys::REQUEST_ID;
use super::{condition_failed, s, sdk_err, DynamoApprovalStore};
use crate::ports::{Created, RequestStore, StoreError};
use crate::state::ApprovalRequest;

#[async_trait]
impl RequestStore for DynamoApprovalStore {
    async fn create(&self, req: &ApprovalRequest, outbox_due: DateTime<Utc>) -> Result<Created, StoreError> {
        let item = to_item(req, self.retention, outbox_due)?;
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#rid)")
            .expression_attribute_names("#rid", REQUEST_ID)
            .send()
            .await;
        match result {
            Ok(_) => Ok(Created::New),
            Err(err) if condition_failed(&err) => match self.get(&req.request_id).await? {
                Some(existing) => Ok(Created::Existing(Box::new(existing))),
                // Deleted in between (TTL): as good as new next time; say "try again".
                None => Err(StoreError::Sdk {
                    operation: "PutItem",
                    failure: kit::sdk::SdkFailure::retryable("request vanished during creation"),
                }),
            },
            Err(err) => Err(sdk_err("PutItem", &err)),
        }
    }

    async fn get(&self, request_id: &str) -> Result<Option<ApprovalRequest>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(REQUEST_ID, s(request_id))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_err("GetItem", &e))?;
        out.item.map(from_item).transpose()
    }
}
