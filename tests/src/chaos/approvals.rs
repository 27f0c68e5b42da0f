//! The chaos suite's action approvals (seed 002): requests created by the on-prem
//! service's identity, their one-time links read back from the emulator's SES, then
//! all approvers of a request answering at once just before the kills. Afterwards:
//! exactly one decision per request, exactly one FIFO message, and every other
//! approver told once. The bench drives its approval workflows with `start` and
//! `read_links` too.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use local_stack::{LocalStack, SigV4Client};
use serde_json::{json, Value};

const APPROVERS: usize = 3;
/// The principal the on-prem service signs its API calls as (SigV4, `AWS_IAM` routes).
const SERVICE: &str = "approval-service";

pub struct ApprovalRequest {
    pub id: String,
    pub approvers: Vec<String>,
}

pub struct ApprovalLoad {
    pub requests: Vec<ApprovalRequest>,
    /// Each request's link token per approver, once the emails went out.
    pub tokens: HashMap<String, BTreeMap<String, String>>,
    /// The approver whose answer won, per request.
    pub winners: HashMap<String, String>,
    /// Requests where more than one answer was accepted.
    pub double_decisions: usize,
}

#[derive(Debug, Clone, Default)]
pub struct ApprovalOutcome {
    pub requests: usize,
    /// Requests decided once, their decision queued once and every other approver told.
    pub completed: usize,
    pub double_decisions: usize,
    pub fifo_messages: usize,
    pub duplicate_fifo_messages: usize,
    pub notices: usize,
    pub duplicate_notices: usize,
}

fn http() -> anyhow::Result<reqwest::Client> {
    Ok(kit::http::client()?)
}

/// The on-prem service's client: requests signed as `approval-service`.
fn service(stack: &LocalStack) -> anyhow::Result<SigV4Client> {
    SigV4Client::as_principal(stack, SERVICE).with_context(|| format!("the local stack has no principal {SERVICE}"))
}

/// Creates `n` requests of `APPROVERS` approvers each.
pub async fn start(stack: &LocalStack, n: usize) -> anyhow::Result<ApprovalLoad> {
    let service = service(stack)?;
    let mut requests = Vec::with_capacity(n);
    for i in 0..n {
        let tag = uuid::Uuid::new_v4().simple().to_string();
        let id = format!("chaos-{i}-{tag}");
        let approvers: Vec<String> = (0..APPROVERS).map(|a| format!("approver{a}.{tag}@example.org")).collect();
        let body = json!({"request_id": id, "issue_id": format!("INC-{id}"), "action": "restart-service",
                          "action_parameters": {"service": "billing"}, "approvers": approvers,
                          "expires_in_minutes": 60});
        let resp = service.post_json(&format!("{}/approval-requests", stack.http_url()), &body).await?;
        let status = resp.status().as_u16();
        anyhow::ensure!(status == 201, "create approval request: {status} {}", resp.text().await.unwrap_or_default());
        requests.push(ApprovalRequest { id, approvers });
    }
    Ok(ApprovalLoad { requests, tokens: HashMap::new(), winners: HashMap::new(), double_decisions: 0 })
}

/// Every email the emulator's SES accepted: (recipients, subject, body).
async fn emails(emulator: &str) -> anyhow::Result<Vec<(Vec<String>, String, String)>> {
    let data: Value = http()?.get(format!("{emulator}/moto-api/data.json")).send().await?.json().await?;
    Ok(data["ses"]["Message"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            let to = m["destinations"]["ToAddresses"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|a| a.as_str().map(str::to_owned))
                .collect();
            let text = |k: &str| m[k].as_str().unwrap_or_default().to_owned();
            (to, text("subject"), text("body"))
        })
        .collect())
}

/// The token in an approval email's link for request `id`.
fn token_in(body: &str, id: &str) -> Option<String> {
    let marker = format!("/approvals/{id}?token=");
    let start = body.find(&marker)? + marker.len();
    let token = body.get(start..start + approvals::token::TOKEN_CHARS)?;
    approvals::token::Token::parse(token).ok().map(|_| token.to_owned())
}

/// Waits (up to `timeout`) until every approver of every request has their link.
pub async fn read_links(emulator: &str, load: &mut ApprovalLoad, timeout: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        let sent = emails(emulator).await?;
        for r in &load.requests {
            let tokens = load.tokens.entry(r.id.clone()).or_default();
            for (to, _, body) in &sent {
                if let Some(t) = token_in(body, &r.id) {
                    for a in to {
                        tokens.insert(a.clone(), t.clone());
                    }
                }
            }
        }
        let missing =
            load.requests.iter().filter(|r| r.approvers.iter().any(|a| !load.tokens[&r.id].contains_key(a))).count();
        if missing == 0 {
            return Ok(());
        }
        anyhow::ensure!(Instant::now() < deadline, "{missing} approval requests never emailed all approvers");
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

/// Every approver of every request answers at once (approve or reject alternately).
pub async fn race(stack: &LocalStack, load: &mut ApprovalLoad) -> anyhow::Result<()> {
    let mut answers = Vec::new();
    let client = http()?;
    for r in &load.requests {
        for (i, approver) in r.approvers.iter().enumerate() {
            let token = load.tokens[&r.id][approver].clone();
            let action = if i % 2 == 0 { "approve" } else { "reject" };
            let url = format!("{}/approvals/{}", stack.http_url(), r.id);
            let (id, approver, client) = (r.id.clone(), approver.clone(), client.clone());
            answers.push(tokio::spawn(async move {
                let status = client
                    .post(url)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(format!("token={token}&action={action}"))
                    .send()
                    .await
                    .map(|r| r.status().as_u16());
                (id, approver, status)
            }));
        }
    }
    let mut accepted: HashMap<String, usize> = HashMap::new();
    for a in answers {
        let (id, approver, status) = a.await?;
        match status? {
            200 => {
                *accepted.entry(id.clone()).or_default() += 1;
                load.winners.insert(id, approver);
            }
            409 => {}
            other => anyhow::bail!("{id}: an answer got {other}"),
        }
    }
    load.double_decisions = accepted.values().filter(|n| **n > 1).count();
    anyhow::ensure!(load.winners.len() == load.requests.len(), "some request was not decided at all");
    Ok(())
}

/// Whether the API shows every request's decision as queued.
async fn all_enqueued(stack: &LocalStack, load: &ApprovalLoad) -> anyhow::Result<bool> {
    let service = service(stack)?;
    for r in &load.requests {
        let url = format!("{}/approval-requests/{}", stack.http_url(), r.id);
        let view: Value = service.get(&url).await?.json().await?;
        if !view["decision_enqueued_at"].is_string() {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Decision notices per (request, recipient).
async fn notices(emulator: &str, load: &ApprovalLoad) -> anyhow::Result<HashMap<(String, String), usize>> {
    let mut out = HashMap::new();
    for (to, subject, _) in emails(emulator).await? {
        if !(subject.starts_with("Approved") || subject.starts_with("Rejected")) {
            continue;
        }
        if let Some(r) = load.requests.iter().find(|r| subject.ends_with(&format!("issue INC-{}", r.id))) {
            for a in to {
                *out.entry((r.id.clone(), a)).or_default() += 1;
            }
        }
    }
    Ok(out)
}

/// Waits (up to `timeout`) for every decision to be queued and every notice sent,
/// then drains the FIFO queue and counts.
pub async fn settle(
    stack: &LocalStack,
    sqs: &aws_sdk_sqs::Client,
    load: &ApprovalLoad,
    timeout: Duration,
) -> anyhow::Result<ApprovalOutcome> {
    let emulator = stack.endpoint().to_owned();
    let wanted = load.requests.len() * (APPROVERS - 1);
    let deadline = Instant::now() + timeout;
    let mut sent = notices(&emulator, load).await?;
    while Instant::now() < deadline && !(all_enqueued(stack, load).await? && sent.len() >= wanted) {
        tokio::time::sleep(Duration::from_secs(2)).await;
        sent = notices(&emulator, load).await?;
    }
    let mut fifo: HashMap<String, usize> = HashMap::new();
    for body in super::drain_bodies(sqs, stack.provisioned().queue_url("ApprovalDecisionsQueue")?).await? {
        let v: Value = serde_json::from_str(&body)?;
        *fifo.entry(v["payload"]["request_id"].as_str().unwrap_or_default().to_owned()).or_default() += 1;
    }
    let mut out = ApprovalOutcome {
        requests: load.requests.len(),
        double_decisions: load.double_decisions,
        fifo_messages: fifo.values().sum(),
        duplicate_fifo_messages: fifo.values().map(|n| n.saturating_sub(1)).sum(),
        notices: sent.values().sum(),
        duplicate_notices: sent.values().map(|n| n.saturating_sub(1)).sum(),
        ..Default::default()
    };
    for r in &load.requests {
        let winner = load.winners.get(&r.id);
        let told =
            r.approvers.iter().filter(|a| Some(*a) != winner).all(|a| sent.contains_key(&(r.id.clone(), a.clone())));
        out.completed += usize::from(fifo.get(&r.id) == Some(&1) && told);
    }
    Ok(out)
}

/// Every link token and approver address: none may appear in a log line.
pub fn secrets(load: &ApprovalLoad) -> Vec<String> {
    let mut out: Vec<String> = load.tokens.values().flat_map(|t| t.values().cloned()).collect();
    out.extend(load.requests.iter().flat_map(|r| r.approvers.iter().cloned()));
    out
}
