//! The report workflow's state on DynamoDB: report items in the reports table,
//! report marks on the activity table's event items.

pub mod keys;
mod mark;
mod progress;
mod read;

pub use keys::*;

use aws_sdk_dynamodb::types::AttributeValue;
use kit::store::{build_err, condition_failed, sdk_err};

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
