//! Seed 004, the workflow application's audit trail and notifications: a new
//! workflow per request or record. The steps need no state before a workflow's
//! first action (its audit record starts the chain), so the sample's first action
//! is replayed under new workflow ids.

use async_trait::async_trait;
use serde_json::{json, Value};

use super::{http_tally, sqs, Check, Env, Scenario, Tally};

pub struct PostWorkflow {
    event: Value,
}

impl PostWorkflow {
    pub fn new(env: &Env<'_>) -> anyhow::Result<Self> {
        Ok(Self { event: env.sample("workflow-api", "post-workflow.json")? })
    }
}

#[async_trait]
impl Scenario for PostWorkflow {
    fn path(&self) -> String {
        "`post-workflow.json` with a new `workflow_id`: POST /workflows stores the DRAFT and announces its first action (201)".into()
    }

    fn sizes(&self) -> &'static [usize] {
        &[1]
    }

    fn check(&self) -> Check {
        Check::Answer
    }

    async fn prepare(&mut self, _k: usize) -> anyhow::Result<Value> {
        let mut body: Value = serde_json::from_str(self.event["body"].as_str().unwrap_or("{}"))?;
        body["workflow_id"] = json!(uuid::Uuid::new_v4().to_string());
        let mut event = self.event.clone();
        event["body"] = json!(body.to_string());
        Ok(event)
    }

    fn tally(&self, answer: &Result<Value, Value>, _k: usize) -> Tally {
        http_tally(answer, true)
    }

    /// A retried POST (same workflow id, same content): the stored draft again.
    fn redelivery(&self, first: &Value) -> Option<Value> {
        Some(first.clone())
    }
}

/// create-audit-record and send-notification: both consume `workflow.action`.
pub struct FirstAction {
    source: sqs::Source,
    /// The sample's first action (seq 1, `save` → DRAFT), as an envelope.
    action: Value,
    path: &'static str,
}

impl FirstAction {
    fn new(env: &Env<'_>, binary: &str, path: &'static str) -> anyhow::Result<Self> {
        let sample = env.sample(binary, "sqs-batch.json")?;
        let action = serde_json::from_str(sample.pointer("/Records/0/body").and_then(Value::as_str).unwrap_or("{}"))?;
        Ok(Self { source: env.source(binary)?, action, path })
    }

    pub fn audit(env: &Env<'_>) -> anyhow::Result<Self> {
        Self::new(
            env,
            "create-audit-record",
            "a new workflow's first action: its audit record stored, starting the hash chain",
        )
    }

    pub fn notify(env: &Env<'_>) -> anyhow::Result<Self> {
        Self::new(
            env,
            "send-notification",
            "a new workflow's first action: a notification stored per recipient and published (IoT in the emulator)",
        )
    }
}

#[async_trait]
impl Scenario for FirstAction {
    fn path(&self) -> String {
        self.path.into()
    }

    async fn prepare(&mut self, k: usize) -> anyhow::Result<Value> {
        let bodies = (0..k).map(|_| {
            let workflow = uuid::Uuid::new_v4().to_string();
            let mut action = self.action.clone();
            action["id"] = json!(format!("workflow.action:{workflow}:1"));
            action["workflow_id"] = json!(workflow);
            action["payload"]["workflow_id"] = json!(workflow);
            action.to_string()
        });
        Ok(self.source.event(bodies))
    }
}
