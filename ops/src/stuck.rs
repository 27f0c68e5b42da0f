//! `ops stuck`: the workflows of every kind stuck past their state's limit. The
//! definition, the limits and the index reads are the `stuck` crate's, which the
//! scheduled `stuck-detector` runs for the alarms: one implementation, so what
//! pages on-call and what this lists are the same workflows.

use chrono::Utc;
use kit::config::Env;
use stuck::dynamo::DynamoSources;
use stuck::{Check, Kind, Limits};

use crate::stack::StackMap;

/// At most this many candidates per stuck state's index.
pub const LIMIT: usize = 1000;

/// The stores of the kinds this stack's template has.
pub fn sources(ddb: &aws_sdk_dynamodb::Client, map: &StackMap) -> DynamoSources {
    DynamoSources {
        reports: match (map.table("ReportsTable"), map.table("ActivityTable")) {
            (Ok(r), Ok(a)) => Some(reports::dynamo::DynamoReportStore::new(ddb.clone(), r, a)),
            _ => None,
        },
        approvals: map
            .table("ApprovalsTable")
            .ok()
            .map(|t| approvals::dynamo::DynamoApprovalStore::new(ddb.clone(), t)),
        contacts: map.table("ContactsTable").ok().map(|t| contacts::dynamo::DynamoContactStore::new(ddb.clone(), t)),
        workflows: map.table("WorkflowsTable").ok().map(|t| audit::dynamo::DynamoWorkflows::new(ddb.clone(), t)),
    }
}

/// The detector's limits as the template sets them, or one limit for every state.
pub fn limits(map: &StackMap, older_than: Option<std::time::Duration>) -> anyhow::Result<Limits> {
    if let Some(d) = older_than {
        return Ok(Limits::uniform(chrono::Duration::from_std(d)?));
    }
    let mut env = Env::from_map(map.stuck_limits.clone());
    let limits = Limits::from_env(&mut env);
    env.finish()?;
    Ok(limits)
}

/// One check of `kinds` (every kind when empty), now.
pub async fn check(sources: &DynamoSources, kinds: &[Kind], limits: &Limits) -> Check {
    let kinds = if kinds.is_empty() { &Kind::ALL[..] } else { kinds };
    stuck::check(sources, kinds, Utc::now(), limits, LIMIT).await
}
