//! stuck-detector: every five minutes, counts the workflows not finished within
//! `STUCK_AFTER_MINUTES` and emits the count as the `StuckWorkflows` metric, which
//! the `stuck` alarm pages on. The choreography's answer to Step Functions'
//! `ExecutionFailed`: a workflow whose message was dropped still shows up here.
//! `ops stuck` lists the same workflows.

use chrono::Utc;
use kit::config::{ConfigError, Env};
use lambda_runtime::{service_fn, LambdaEvent};
use reports::dynamo::DynamoReportStore;
use serde_json::{json, Value};
use tracing::{info, warn};

const FUNCTION: &str = "stuck-detector";
/// Listed in the log line at most (ids only); the metric counts them all.
const LOGGED: usize = 20;

struct Config {
    reports_table: String,
    activity_table: String,
    stuck_after: chrono::Duration,
    metrics_namespace: String,
}

impl Config {
    fn read(mut env: Env) -> Result<Self, ConfigError> {
        let config = Self {
            reports_table: env.required("REPORTS_TABLE_NAME"),
            activity_table: env.required("ACTIVITY_TABLE_NAME"),
            stuck_after: chrono::Duration::minutes(env.parse_or("STUCK_AFTER_MINUTES", 15i64)),
            metrics_namespace: env.optional("METRICS_NAMESPACE").unwrap_or_else(|| "workflows".to_owned()),
        };
        env.finish()?;
        Ok(config)
    }
}

async fn check(store: &DynamoReportStore, stuck_after: chrono::Duration) -> Result<Value, lambda_runtime::Error> {
    let stuck = store.open_before(Utc::now() - stuck_after, 10_000).await?;
    kit::metrics::stuck_workflows(stuck.len());
    kit::metrics::flush();
    let ids: Vec<&str> = stuck.iter().take(LOGGED).map(|r| r.report_id.as_str()).collect();
    if stuck.is_empty() {
        info!(system = "report", "nothing stuck");
    } else {
        warn!(system = "report", stuck = stuck.len(), ?ids, "workflows not finished in time; see `ops stuck`");
    }
    Ok(json!({ "report": stuck.len() }))
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    kit::telemetry::init();
    let config = kit::config::or_exit(Config::read(Env::from_process()));
    kit::metrics::init(&config.metrics_namespace, FUNCTION);
    let aws = kit::sdk::aws_config().await;
    let store =
        DynamoReportStore::new(aws_sdk_dynamodb::Client::new(&aws), config.reports_table, config.activity_table);
    let store = std::sync::Arc::new(store);
    let stuck_after = config.stuck_after;
    lambda_runtime::run(service_fn(move |_event: LambdaEvent<Value>| {
        let store = store.clone();
        async move { check(&store, stuck_after).await }
    }))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_every_missing_variable() {
        let err = Config::read(Env::from_map(Default::default())).err().unwrap().to_string();
        assert!(err.contains("REPORTS_TABLE_NAME") && err.contains("ACTIVITY_TABLE_NAME"), "{err}");
    }
}
