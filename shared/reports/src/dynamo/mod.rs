//! The report workflow's state on DynamoDB: report items in the reports table,
//! report marks on the activity table's event items.

pub mod keys;
mod mark;
mod progress;
mod read;

pub use keys::*;

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::AttributeValue;
use kit::sdk::{classify_sdk_error, SdkFailure};

use crate::ports::StoreError;

#[derive(Clone)]
pub struct DynamoReportStore {
    client: aws_sdk_dynamodb::Client,
    reports_table: String,
    activity_table: String,
}

impl DynamoReportStore {
    pub fn new(
        client: aws_sdk_dynamodb::Client,
        reports_table: impl Into<String>,
        activity_table: impl Into<String>,
    ) -> Self {
        Self { client, reports_table: reports_table.into(), activity_table: activity_table.into() }
    }
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn ts(t: chrono::DateTime<chrono::Utc>) -> AttributeValue {
    s(activity::domain::render_time(t))
}

fn sdk_err<E, R>(operation: &'static str, err: &aws_sdk_dynamodb::error::SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    StoreError::Sdk { operation, failure: classify_sdk_error(err) }
}

fn build_err(operation: &'static str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Sdk { operation, failure: SdkFailure::permanent(e.to_string()) }
}

/// A conditional write that lost its condition: not an error, an answer.
fn condition_failed<E: ProvideErrorMetadata, R>(err: &aws_sdk_dynamodb::error::SdkError<E, R>) -> bool {
    err.as_service_error().and_then(|e| e.code()) == Some("ConditionalCheckFailedException")
}
