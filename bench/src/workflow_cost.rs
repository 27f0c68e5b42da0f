//! The action-approval (seed 002) and audit-trail (seed 004) workflows end to end on
//! the local stack, as `report_cost` does for reports: AWS requests per workflow by
//! kind (the fault proxy counts every request the functions make, the pollers the
//! event-source mapping's own SQS calls), the cost per 1,000 at list prices, and
//! the latency of each automated leg, from the timestamps the functions store.
//!
//! The harness drives the workflows through the HTTP API as their users do and reads
//! progress straight from the emulator, so none of its own requests is counted.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use approvals::dynamo::DynamoApprovalStore;
use approvals::ports::RequestStore;
use audit::dynamo::{DynamoAudit, DynamoNotifications};
use audit::ports::{AuditReader, NotificationReader};
use chrono::{DateTime, Utc};
use integration_tests::chaos::approvals as approval_load;
use integration_tests::workflows::token_with_roles;
use local_stack::{LocalStack, StackOptions};
use serde_json::{json, Value};

use crate::report_cost::{median_by_key, percentiles};
use crate::settle::settled_requests;

/// API Gateway requests are not AWS SDK calls, so the proxy cannot see them; the
/// harness counts its own under this key (each is also a Lambda invocation).
pub const API_REQUESTS: &str = "APIGateway.Request";

pub struct Leg {
    pub name: &'static str,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub samples: usize,
}

pub struct WorkflowFigures {
    pub name: &'static str,
    /// What one workflow is ("request", "workflow").
    pub unit: &'static str,
    /// What the harness does per workflow.
    pub how: &'static str,
    pub runs: usize,
    pub per_run: usize,
    /// Requests per workflow by kind, medians over the runs.
    pub per_workflow: BTreeMap<String, f64>,
    /// Items per `TransactWriteItems` for pricing (see `cost::per_thousand`).
    pub items_per_transaction: f64,
    pub legs: Vec<Leg>,
    /// What a reader needs to read the figures.
    pub note: &'static str,
}

pub async fn measure(workspace: &Path, runs: usize, per_run: usize) -> anyhow::Result<Vec<WorkflowFigures>> {
    let release = workspace.join("target").join("release");
    let stack = LocalStack::start(StackOptions::for_workspace(workspace).with_bin_dir(&release).quiet()).await?;
    let result = async {
        let approvals = approval_workflows(&stack, runs, per_run).await?;
        let audited = audited_workflows(&stack, runs, per_run).await?;
        anyhow::Ok(vec![approvals, audited])
    }
    .await;
    stack.shutdown().await;
    result
}

/// Counts what the functions did while `run` drove `n` workflows, per workflow.
async fn counted<F, T>(
    stack: &LocalStack,
    n: usize,
    api_requests: f64,
    run: F,
) -> anyhow::Result<(BTreeMap<String, f64>, T)>
where
    F: std::future::Future<Output = anyhow::Result<T>>,
{
    // A previous run's last calls are its own.
    settled_requests(stack).await?;
    stack.reset_aws_requests();
    let out = run.await?;
    let mut per: BTreeMap<String, f64> =
        settled_requests(stack).await?.into_iter().map(|(k, v)| (k, v as f64 / n as f64)).collect();
    per.insert(API_REQUESTS.to_owned(), api_requests);
    Ok((per, out))
}

fn ms(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from).num_microseconds().unwrap_or(0) as f64 / 1e3
}

fn leg(name: &'static str, mut samples: Vec<f64>) -> Leg {
    let (p50, p99) = percentiles(&mut samples);
    Leg { name, p50_ms: p50, p99_ms: p99, samples: samples.len() }
}

// ---- Action approval (seed 002) ----

async fn approval_workflows(stack: &LocalStack, runs: usize, n: usize) -> anyhow::Result<WorkflowFigures> {
    let store = DynamoApprovalStore::new(
        aws_sdk_dynamodb::Client::new(stack.sdk_config()),
        stack.provisioned().table_name("ApprovalsTable")?,
    );
    // Warm every function once (first calls open connections): not counted.
    approve_all(stack, &store, 1).await?;
    let (mut per_run, mut emailed, mut settled) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        // The on-prem service's create and the deciding approver's answer.
        let (per, done) = counted(stack, n, 2.0, approve_all(stack, &store, n)).await?;
        per_run.push(per);
        for r in done {
            if let Some(sent) = r.emails_sent_at {
                emailed.push(ms(r.created_at, sent));
            }
            if let (Some(d), Some(q), Some(t)) = (&r.decision, r.decision_enqueued_at, r.approvers_notified_at) {
                settled.push(ms(d.decided_at, q.max(t)));
            }
        }
    }
    Ok(WorkflowFigures {
        name: "Action approval (seed 002)",
        unit: "request",
        how: "the on-prem service's identity creates a request for 3 approvers (`POST /approval-requests`); once the three links are in SES, the first approver approves (`POST /approvals/{id}`); done when the decision is on the FIFO queue and the other two approvers are told. The on-prem processor's own calls are not counted",
        runs,
        per_run: n,
        per_workflow: median_by_key(&per_run),
        items_per_transaction: 2.0,
        legs: vec![
            leg("request stored → all 3 approvers emailed (send-approval-emails)", emailed),
            leg("approval accepted → decision on the FIFO queue and the others told (enqueue-decision, notify-approvers)", settled),
        ],
        note: "SES is $0.50 of the total: five emails per request (three links, two notices) at $0.10 per 1,000.",
    })
}

/// Creates `n` requests, approves each through its first approver's link once the
/// emails are out, and waits until each decision is queued and the others told.
async fn approve_all(
    stack: &LocalStack,
    store: &DynamoApprovalStore,
    n: usize,
) -> anyhow::Result<Vec<approvals::ApprovalRequest>> {
    let mut load = approval_load::start(stack, n).await?;
    approval_load::read_links(stack.endpoint(), &mut load, Duration::from_secs(300)).await?;
    let http = kit::http::client()?;
    for r in &load.requests {
        let first = &r.approvers[0];
        let token = &load.tokens[&r.id][first];
        let resp = http
            .post(format!("{}/approvals/{}", stack.http_url(), r.id))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("token={token}&action=approve"))
            .send()
            .await?;
        anyhow::ensure!(resp.status().as_u16() == 200, "approve {}: {}", r.id, resp.status());
    }
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut done = Vec::with_capacity(n);
    for r in &load.requests {
        loop {
            match store.get(&r.id).await? {
                Some(req) if req.decision_enqueued_at.is_some() && req.approvers_notified_at.is_some() => {
                    done.push(req);
                    break;
                }
                _ => {
                    anyhow::ensure!(Instant::now() < deadline, "approval request {} never settled", r.id);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }
    Ok(done)
}

// ---- Audit trail and notifications (seed 004) ----

/// Accepted actions per workflow (create, request, approve) and the notifications
/// they make (the requester is told of all three, the approver of the last two).
const ACTIONS: usize = 3;
const NOTICES: usize = 5;

struct Audited {
    id: String,
    requester: String,
    approver: String,
}

async fn audited_workflows(stack: &LocalStack, runs: usize, n: usize) -> anyhow::Result<WorkflowFigures> {
    let dynamodb = aws_sdk_dynamodb::Client::new(stack.sdk_config());
    let log = DynamoAudit::new(dynamodb.clone(), stack.provisioned().table_name("AuditTable")?);
    let inbox = DynamoNotifications::new(dynamodb, stack.provisioned().table_name("NotificationsTable")?);
    run_audited(stack, &log, &inbox, 1).await?;
    let (mut per_run, mut recorded) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let (per, samples) = counted(stack, n, ACTIONS as f64, run_audited(stack, &log, &inbox, n)).await?;
        per_run.push(per);
        recorded.extend(samples);
    }
    Ok(WorkflowFigures {
        name: "Audit trail and notifications (seed 004)",
        unit: "workflow",
        how: "a requester creates a workflow (`POST /workflows`) and requests approval, its approver approves (`POST /workflows/{id}/actions`); done when the 3 audit records are chained and the 5 notifications stored and published",
        runs,
        per_run: n,
        per_workflow: median_by_key(&per_run),
        items_per_transaction: 2.0,
        legs: vec![leg(
            "action accepted → audit record chained, notifications stored and published (create-audit-record, send-notification)",
            recorded,
        )],
        note: "The p99 is actions whose record arrived before its predecessor's: standard SQS queues do not keep order, so create-audit-record hands such a record back with a backoff (`SQS.ChangeMessageVisibility`) until the previous record is chained, which is what keeps the hash chain in order (docs/decisions.md, seed 004).",
    })
}

/// Drives `n` workflows through their three actions; returns, per action, the time
/// from its acceptance to its last effect.
async fn run_audited(
    stack: &LocalStack,
    log: &DynamoAudit,
    inbox: &DynamoNotifications,
    n: usize,
) -> anyhow::Result<Vec<f64>> {
    let http = kit::http::client()?;
    let call = |path: String, user: &str, role: &str, body: Value| {
        http.post(format!("{}{path}", stack.http_url())).bearer_auth(token_with_roles(stack, user, &[role])).json(&body)
    };
    let mut workflows = Vec::with_capacity(n);
    for i in 0..n {
        let tag = uuid::Uuid::new_v4().simple().to_string();
        let (requester, approver) = (format!("bench-req-{i}-{tag}"), format!("bench-appr-{i}-{tag}"));
        let body = json!({"scheme": "bench", "title": format!("Roof repair {i}"), "approvers": [approver],
                          "data": {"contractor": "Bench Ltd"}});
        let resp = call("/workflows".into(), &requester, "requester", body).send().await?;
        anyhow::ensure!(resp.status().as_u16() == 201, "create workflow: {}", resp.status());
        let created: Value = resp.json().await?;
        let id = created["workflow"]["workflow_id"].as_str().unwrap_or_default().to_owned();
        for (user, role, action) in [(&requester, "requester", "request"), (&approver, "approver", "approve")] {
            let body = json!({"action": action, "comment": format!("{action} in the bench")});
            let resp = call(format!("/workflows/{id}/actions"), user.as_str(), role, body).send().await?;
            anyhow::ensure!(resp.status().as_u16() == 200, "{action} {id}: {}", resp.status());
        }
        workflows.push(Audited { id, requester, approver });
    }
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut samples = Vec::new();
    for w in &workflows {
        loop {
            let records = log.chain(&w.id).await?;
            let mut notices = inbox.list(&w.requester, 100, None).await?.items;
            notices.extend(inbox.list(&w.approver, 100, None).await?.items);
            let published = notices.iter().filter(|n| n.workflow_id == w.id && n.published_at.is_some()).count();
            if records.len() >= ACTIONS && published >= NOTICES {
                for r in &records {
                    let at = |s: &str| DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc));
                    let last = notices
                        .iter()
                        .filter(|n| n.workflow_id == w.id && n.seq == r.seq)
                        .filter_map(|n| n.published_at.as_deref().and_then(at))
                        .chain(at(&r.recorded_at))
                        .max();
                    if let (Some(accepted), Some(last)) = (at(&r.at), last) {
                        samples.push(ms(accepted, last));
                    }
                }
                break;
            }
            anyhow::ensure!(Instant::now() < deadline, "workflow {} never settled", w.id);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    Ok(samples)
}
