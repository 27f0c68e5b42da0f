//! Seed 004, the workflow application's audit trail and notifications: a new
//! workflow per request or record. The steps need no state before a workflow's
//! first action (its audit record starts the chain), so the sample's first action
//! is replayed under new workflow ids; the redrive step gets workflows the API's
//! own use case stored and failed to announce.

use async_trait::async_trait;
use audit::dynamo::DynamoWorkflows;
use audit::ids::UserId;
use audit::roles::Roles;
use audit::usecases::{create_workflow, RequestContext};
use audit::workflow::Caller;
use audit::AuditError;
use kit::publisher::SnsPublisher;
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

/// announce-workflow's redrive path: workflows the API stored but could not
/// announce (its publish went to a topic that does not exist), each redriven by
/// an operator's request as `ops` sends it.
pub struct Announce {
    source: sqs::Source,
    store: DynamoWorkflows,
    /// The API's publish, failing: what leaves a workflow unannounced.
    unreachable: SnsPublisher,
    /// `post-workflow.json`'s body: the workflow each request stores.
    body: Value,
    /// The sample's first redrive request, as an envelope.
    request: Value,
}

impl Announce {
    pub fn new(env: &Env<'_>) -> anyhow::Result<Self> {
        let post = env.sample("workflow-api", "post-workflow.json")?;
        let body = serde_json::from_str(post["body"].as_str().unwrap_or("{}"))?;
        let sample = env.sample("announce-workflow", "sqs-batch.json")?;
        let request = serde_json::from_str(sample.pointer("/Records/0/body").and_then(Value::as_str).unwrap_or("{}"))?;
        let sns = aws_sdk_sns::Client::new(env.stack.sdk_config());
        let stack = env.stack.context();
        let missing = format!("arn:aws:sns:{}:{}:bench-{}-no-such-topic", stack.region, stack.account_id, env.run);
        Ok(Self {
            source: env.source("announce-workflow")?,
            store: DynamoWorkflows::new(env.dynamodb(), env.table("WorkflowsTable")?),
            unreachable: SnsPublisher::new(sns, missing),
            body,
            request,
        })
    }

    /// A new workflow stored by the API's own use case, its announcement failed.
    async fn unannounced(&self) -> anyhow::Result<String> {
        let id = uuid::Uuid::new_v4().to_string();
        let mut body = self.body.clone();
        body["workflow_id"] = json!(id);
        let caller = Caller { user: UserId::parse("requester-1")?, roles: Roles::from_claim("[requester]") };
        let ctx = RequestContext { now: chrono::Utc::now(), correlation_id: format!("bench-{id}") };
        let created =
            create_workflow(&self.store, &self.unreachable, &caller, serde_json::from_value(body)?, &ctx).await;
        anyhow::ensure!(
            matches!(created, Err(AuditError::NotAnnounced { .. })),
            "seeding an unannounced workflow: {created:?}"
        );
        Ok(id)
    }
}

#[async_trait]
impl Scenario for Announce {
    fn path(&self) -> String {
        "a workflow stored by the API's use case whose announcement failed: the redrive publishes it and records the redrive".into()
    }

    async fn prepare(&mut self, k: usize) -> anyhow::Result<Value> {
        let mut bodies = Vec::with_capacity(k);
        for _ in 0..k {
            let workflow = self.unannounced().await?;
            let mut request = self.request.clone();
            request["id"] = json!(format!("workflow.announce:{workflow}:1:bench"));
            request["workflow_id"] = json!(workflow);
            request["payload"]["workflow_id"] = json!(workflow);
            request["payload"]["seq"] = json!(1);
            bodies.push(request.to_string());
        }
        Ok(self.source.event(bodies))
    }
}
