//! Seed 004's real-time channel on the local stack: the time from a workflow
//! action's accepted answer to its notification arriving at a subscribed
//! client (MQTT over WebSocket on the local IoT Core), one action at a time.

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use integration_tests::Driver;
use local_stack::iot::client::Subscriber;
use local_stack::StackOptions;
use serde_json::json;

pub struct RealtimeFigures {
    /// `debug` or `release`: which function binaries ran.
    pub profile: String,
    pub workflows: usize,
    pub actions: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// `workflows` workflows, each created, saved and requested by its requester, who
/// is subscribed: 3 actions, 3 notifications each, one action in flight at a time.
pub async fn measure(workspace: &Path, bin_dir: &Path, workflows: usize) -> anyhow::Result<RealtimeFigures> {
    let options = StackOptions::for_workspace(workspace).with_bin_dir(bin_dir).quiet();
    let profile = bin_dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let d = Driver::start_with(options).await;
    let roles: &[&str] = &["requester"];
    let mut samples = Vec::new();
    for _ in 0..workflows {
        let (requester, approver) = (d.unique_user(), d.unique_user());
        let mut s = d.notifications_subscriber(&requester, roles).await;
        let create = json!({"scheme": "bench", "approvers": [&approver]});
        let (status, body) = d.call_as("POST", "/workflows", &requester, roles, Some(&create)).await;
        anyhow::ensure!(status == 201, "create: {status} {body}");
        let accepted = Instant::now();
        let id = body["workflow"]["workflow_id"].as_str().unwrap_or_default().to_owned();
        samples.push(arrival(&mut s, accepted).await?);
        for action in ["save", "request"] {
            let path = format!("/workflows/{id}/actions");
            let (status, body) = d.call_as("POST", &path, &requester, roles, Some(&json!({"action": action}))).await;
            anyhow::ensure!(status == 200, "{action}: {status} {body}");
            samples.push(arrival(&mut s, Instant::now()).await?);
        }
        s.disconnect().await;
    }
    samples.sort_by(f64::total_cmp);
    Ok(RealtimeFigures {
        profile,
        workflows,
        actions: samples.len(),
        p50_ms: percentile(&samples, 50.0),
        p99_ms: percentile(&samples, 99.0),
        max_ms: samples.last().copied().unwrap_or_default(),
    })
}

/// Milliseconds from `accepted` to the subscriber's next message.
async fn arrival(s: &mut Subscriber, accepted: Instant) -> anyhow::Result<f64> {
    let m = s.next_message(Duration::from_secs(10)).await.ok_or_else(|| anyhow::anyhow!("no notification"))?;
    Ok(m.at.into_std().saturating_duration_since(accepted).as_secs_f64() * 1000.0)
}

pub fn section(md: &mut String, f: &RealtimeFigures) -> anyhow::Result<()> {
    writeln!(md, "## Real-time notifications (seed 004): action → notification received\n")?;
    writeln!(
        md,
        "From the workflow API's 2xx answer to the notification arriving at the requester's subscribed client \
         (MQTT over WebSocket on the local IoT Core, authorised by the iot-authorizer function): the workflow API \
         → SNS → SQS → send-notification (DynamoDB put, IoT Publish through the AWS proxy, `published_at`) → broker \
         → WebSocket. Load: {} workflows one after another, each created, saved and requested by a subscribed \
         requester ({} actions, one in flight at a time, {} binaries). A notification can arrive before the HTTP \
         answer is read (0 ms).\n",
        f.workflows, f.actions, f.profile
    )?;
    writeln!(md, "| p50 | p99 | max | target |\n|---|---|---|---|")?;
    writeln!(
        md,
        "| {:.1} ms | {:.1} ms | {:.1} ms | < 1 s {} |\n",
        f.p50_ms,
        f.p99_ms,
        f.max_ms,
        if f.p99_ms < 1000.0 { "✅" } else { "❌" }
    )?;
    Ok(())
}
