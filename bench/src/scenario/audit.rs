//! Seed 004, the workflow application's audit trail and notifications: a new
//! workflow per request or record. The steps need no state before a workflow's
//! first action (its audit record starts the chain), so the sample's first action
//! is replayed under new workflow ids.

use async_trait::async_trait;
use serde_json::{json, Value};

use super::api::FreshPost;
use super::{sqs, Env, Scenario};

/// workflow-api's create path: the sample workflow under a new `workflow_id`.
pub fn post_workflow(env: &Env<'_>) -> anyhow::Result<FreshPost> {
    Ok(FreshPost::new(
        env.sample("workflow-api", "post-workflow.json")?,
        "workflow_id",
        || uuid::Uuid::new_v4().to_string(),
        "`post-workflow.json` with a new `workflow_id`: POST /workflows stores the DRAFT and announces its first action (201)",
    ))
}

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
