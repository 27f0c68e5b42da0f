//! The chaos suite's audited workflows (seed 004): each one created, requested and
//! approved through the workflow API before the kills, every event it published
//! delivered twice more to both step queues, then counted through the API: exactly
//! one audit record per accepted action and one notification per recipient.

use std::time::Duration;

use local_stack::LocalStack;
use serde_json::{json, Value};

use crate::workflows::{capture_topic, token_with_roles};

/// Step queues the workflow events fan out to.
pub const STEP_QUEUES: [&str; 2] = ["CreateAuditRecordQueue", "SendNotificationQueue"];
/// Workflow data that must reach the audit records and never a log line.
pub const PRIVATE: &str = "Chaos-Private-Contractor-Ltd";
/// Accepted actions per workflow: the creating save, the request, the approval.
const RECORDS: usize = 3;
/// Notifications: saves tell the requester; the request and the approval tell both.
const REQUESTER_NOTICES: u64 = 3;
const APPROVER_NOTICES: u64 = 2;

pub struct AuditWorkflow {
    pub id: String,
    requester: String,
    approver: String,
}

/// The audited workflows of a run and the queue capturing their events.
pub struct AuditLoad {
    pub workflows: Vec<AuditWorkflow>,
    capture_url: String,
}

#[derive(Debug, Clone, Default)]
pub struct AuditOutcome {
    pub workflows: usize,
    /// Workflows with every record and notification they should have.
    pub completed: usize,
    pub records: usize,
    /// Records beyond one per accepted action.
    pub duplicate_records: usize,
    pub notifications: u64,
    /// Notifications beyond one per recipient and action.
    pub duplicate_notifications: u64,
    /// Event deliveries the suite added (the copies).
    pub redelivered: usize,
}

async fn call(
    stack: &LocalStack,
    method: reqwest::Method,
    path: &str,
    user: &str,
    roles: &[&str],
    body: Option<&Value>,
) -> anyhow::Result<(u16, Value)> {
    let mut req = kit::http::client()?
        .request(method, format!("{}{path}", stack.http_url()))
        .bearer_auth(token_with_roles(stack, user, roles));
    if let Some(b) = body {
        req = req.json(b);
    }
    let resp = req.send().await?;
    let status = resp.status().as_u16();
    Ok((status, resp.json().await.unwrap_or(Value::Null)))
}

async fn act(stack: &LocalStack, who: &str, roles: &[&str], id: &str, action: &str) -> anyhow::Result<()> {
    let body = json!({"action": action, "comment": format!("{action} in the chaos run")});
    let (status, reply) =
        call(stack, reqwest::Method::POST, &format!("/workflows/{id}/actions"), who, roles, Some(&body)).await?;
    anyhow::ensure!(status == 200, "{action} on {id}: {status} {reply}");
    Ok(())
}

/// Creates, requests and approves `n` workflows, with their events captured.
pub async fn start(stack: &LocalStack, n: usize) -> anyhow::Result<AuditLoad> {
    let capture_url = capture_topic(stack, "WorkflowActionsTopic").await?;
    let mut workflows = Vec::with_capacity(n);
    for i in 0..n {
        let tag = uuid::Uuid::new_v4().simple().to_string();
        let (requester, approver) = (format!("req-{i}-{tag}"), format!("appr-{i}-{tag}"));
        let body = json!({"scheme": "chaos", "title": format!("Roof repair {i}"), "approvers": [approver],
                          "data": {"contractor": PRIVATE}});
        let (status, created) =
            call(stack, reqwest::Method::POST, "/workflows", &requester, &["requester"], Some(&body)).await?;
        anyhow::ensure!(status == 201, "create workflow: {status} {created}");
        let id = created["workflow"]["workflow_id"].as_str().unwrap_or_default().to_owned();
        act(stack, &requester, &["requester"], &id, "request").await?;
        act(stack, &approver, &["approver"], &id, "approve").await?;
        workflows.push(AuditWorkflow { id, requester, approver });
    }
    Ok(AuditLoad { workflows, capture_url })
}

/// Every captured event delivered `extra` more times to each step queue.
pub async fn redeliver(
    stack: &LocalStack,
    sqs: &aws_sdk_sqs::Client,
    load: &AuditLoad,
    extra: usize,
) -> anyhow::Result<usize> {
    let bodies = super::drain_bodies(sqs, &load.capture_url).await?;
    let mut sent = 0;
    for queue in STEP_QUEUES {
        let url = stack.provisioned().queue_url(queue)?.to_owned();
        for _ in 0..extra {
            super::send_all(sqs, &url, &bodies).await?;
            sent += bodies.len();
        }
    }
    Ok(sent)
}

/// Counts records and notifications through the API (auditor and user views).
pub async fn check(stack: &LocalStack, load: &AuditLoad) -> anyhow::Result<AuditOutcome> {
    let mut out = AuditOutcome { workflows: load.workflows.len(), ..Default::default() };
    for w in &load.workflows {
        let path = format!("/audit?workflow_id={}&limit=100", w.id);
        let (status, body) = call(stack, reqwest::Method::GET, &path, "chaos-auditor", &["auditor"], None).await?;
        anyhow::ensure!(status == 200, "audit search: {status} {body}");
        let records = body["items"].as_array().map_or(0, Vec::len);
        out.records += records;
        out.duplicate_records += records.saturating_sub(RECORDS);
        let mut complete = records >= RECORDS;
        for (user, expected) in [(&w.requester, REQUESTER_NOTICES), (&w.approver, APPROVER_NOTICES)] {
            let path = format!("/users/{user}/notifications?limit=100");
            let (status, body) = call(stack, reqwest::Method::GET, &path, user, &[], None).await?;
            anyhow::ensure!(status == 200, "notifications: {status} {body}");
            let got = body["items"].as_array().map_or(0, Vec::len) as u64;
            out.notifications += got;
            out.duplicate_notifications += got.saturating_sub(expected);
            complete &= got >= expected;
        }
        out.completed += usize::from(complete);
    }
    Ok(out)
}

/// Polls `check` until every workflow is complete or `timeout` passes.
pub async fn settle(stack: &LocalStack, load: &AuditLoad, timeout: Duration) -> anyhow::Result<AuditOutcome> {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let out = check(stack, load).await?;
        if out.completed == out.workflows || std::time::Instant::now() > deadline {
            return Ok(out);
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}
