//! stuck-detector: every five minutes, finds the workflows of every kind (reports,
//! approval requests, contacts, audited workflows) that have stayed in a state the
//! pipeline should have moved them on from for longer than that state's limit, and
//! emits their count per kind as `StuckWorkflows` (dimension `kind`), which the
//! `StuckWorkflows*Alarm`s page on. The choreography's answer to Step Functions'
//! `ExecutionFailed`: a workflow whose message was dropped still shows up here.
//! The definition is the `stuck` crate's, which `ops stuck` uses too.

use std::sync::Arc;

use chrono::Utc;
use kit::config::{ConfigError, Env};
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::{json, Map, Value};
use stuck::dynamo::DynamoSources;
use stuck::{Kind, Limits};
use tracing::{error, info, warn};

const FUNCTION: &str = "stuck-detector";
/// Listed in the log line at most (ids only); the metric counts them all.
const LOGGED: usize = 20;
/// Candidates read per state's index: far more than on-call can act on, few
/// enough to keep a run within its timeout.
const CANDIDATES: usize = 10_000;

struct Config {
    reports_table: String,
    activity_table: String,
    approvals_table: String,
    contacts_table: String,
    workflows_table: String,
    limits: Limits,
}

impl Config {
    fn read(mut env: Env) -> Result<Self, ConfigError> {
        let config = Self {
            reports_table: env.required("REPORTS_TABLE_NAME"),
            activity_table: env.required("ACTIVITY_TABLE_NAME"),
            approvals_table: env.required("APPROVALS_TABLE_NAME"),
            contacts_table: env.required("CONTACTS_TABLE_NAME"),
            workflows_table: env.required("WORKFLOWS_TABLE_NAME"),
            limits: Limits::from_env(&mut env),
        };
        env.finish()?;
        Ok(config)
    }
}

async fn check(sources: &DynamoSources, limits: &Limits) -> Result<Value, lambda_runtime::Error> {
    let result = stuck::check(sources, &Kind::ALL, Utc::now(), limits, CANDIDATES).await;
    stuck::metrics::emit(&result);
    kit::metrics::flush();
    let mut answer = Map::new();
    for (kind, found) in &result.findings {
        answer.insert(kind.as_str().to_owned(), json!(found.len()));
        if found.is_empty() {
            info!(kind = kind.as_str(), "nothing stuck");
            continue;
        }
        let ids: Vec<String> = found.iter().take(LOGGED).map(|f| format!("{} ({})", f.id, f.state)).collect();
        warn!(kind = kind.as_str(), stuck = found.len(), ?ids, "workflows not moved on in time; see `ops stuck`");
    }
    if let Some(first) = result.failed.first() {
        for e in &result.failed {
            error!(kind = e.kind.as_str(), error = %kit::error::chain(e), "could not check this kind");
        }
        // Its metric is missing: its alarm pages; the function's errors alarm too.
        return Err(format!("{} kind(s) could not be checked: {first}", result.failed.len()).into());
    }
    Ok(Value::Object(answer))
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let started = kit::start::function(FUNCTION, Config::read).await;
    let config = &started.config;
    let ddb = started.dynamodb();
    let sources = Arc::new(DynamoSources {
        reports: Some(reports::dynamo::DynamoReportStore::new(
            ddb.clone(),
            config.reports_table.clone(),
            config.activity_table.clone(),
        )),
        approvals: Some(approvals::dynamo::DynamoApprovalStore::new(ddb.clone(), config.approvals_table.clone())),
        contacts: Some(contacts::dynamo::DynamoContactStore::new(ddb.clone(), config.contacts_table.clone())),
        workflows: Some(audit::dynamo::DynamoWorkflows::new(ddb, config.workflows_table.clone())),
    });
    let limits = Arc::new(config.limits.clone());
    started.ready();
    lambda_runtime::run(service_fn(move |_event: LambdaEvent<Value>| {
        let sources = sources.clone();
        let limits = limits.clone();
        async move { check(&sources, &limits).await }
    }))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_every_missing_variable() {
        let err = Config::read(Env::from_map(Default::default())).err().unwrap().to_string();
        for name in [
            "REPORTS_TABLE_NAME",
            "ACTIVITY_TABLE_NAME",
            "APPROVALS_TABLE_NAME",
            "CONTACTS_TABLE_NAME",
            "WORKFLOWS_TABLE_NAME",
        ] {
            assert!(err.contains(name), "{err}");
        }
    }
}
