//! Seed 001: record-login with login events it has not seen, and the query API
//! reading a user who has activity.

use activity::dynamo::DynamoActivityStore;
use activity::RawLoginEvent;
use async_trait::async_trait;
use serde_json::Value;

use super::api::Read;
use super::{sqs, Env, Scenario};
use crate::report_cost::seed;

pub struct RecordLogin {
    source: sqs::Source,
    run: String,
    n: usize,
}

impl RecordLogin {
    pub fn new(env: &Env<'_>) -> anyhow::Result<Self> {
        Ok(Self { source: env.source("record-login")?, run: env.run.clone(), n: 0 })
    }
}

#[async_trait]
impl Scenario for RecordLogin {
    fn path(&self) -> String {
        "new login events (a new event id each): the activity item and the service's upsert".into()
    }

    async fn prepare(&mut self, k: usize) -> anyhow::Result<Value> {
        self.n += 1;
        let now = chrono::Utc::now();
        let bodies = (0..k)
            .map(|i| {
                let raw = RawLoginEvent {
                    user_id: format!("bench-{}-{}", self.run, self.n),
                    service_id: format!("svc-{}", i % 3),
                    service_name: "Bench service".into(),
                    timestamp: now.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                    event_id: Some(format!("evt-{}-{i}", self.n)),
                    session_id: None,
                };
                serde_json::to_string(&raw)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(self.source.event(bodies))
    }
}

/// Login events the query reads: enough for a full page.
const SEEDED_EVENTS: usize = 10;

/// query-api's read: `get-activity.json` for a user whose page is seeded first.
pub async fn query_api(env: &Env<'_>) -> anyhow::Result<Read> {
    let event = env.sample("query-api", "get-activity.json")?;
    let user = event.pointer("/pathParameters/user_id").and_then(Value::as_str).unwrap_or("123456789").to_owned();
    let store = DynamoActivityStore::new(env.dynamodb(), env.table("ActivityTable")?);
    for i in 0..SEEDED_EVENTS {
        seed(&store, &user, &format!("bench-{}-{i}", env.run)).await?;
    }
    let path = format!("`get-activity.json`: a page of user {user}'s activity ({SEEDED_EVENTS} events seeded)");
    Ok(Read::new(event, path))
}
