//! The chaos suite's calls (seed 003): contacts scripted on the Connect fake (a third
//! answered and recorded, a third answered and never recorded, a third abandoned in
//! the queue), their flow logs delivered three times to ingest-connect-logs, and the
//! sweep fired through the kills as the schedule would. Afterwards: every recorded
//! call found, every unrecorded call alerted exactly once, every abandoned call gone.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use contacts::dynamo::DynamoContactStore;
use contacts::ports::ContactStore;
use contacts::{ContactId, RecordingState};
use local_stack::{InvokeOutcome, LocalStack};

use crate::connect_logs;
use serde_json::{json, Value};

pub const INSTANCE: &str = "5e7c0a11-0003-4003-8003-00000000c4a0";
pub const PREFIX: &str = "connect/chaos/CallRecordings";
/// The fake's made-up customer number: it must never reach a log line.
pub const CUSTOMER_NUMBER: &str = "7700900123";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    Recorded,
    Unrecorded,
    Abandoned,
}

pub struct ContactLoad {
    calls: Vec<(ContactId, Fate)>,
}

#[derive(Debug, Clone, Default)]
pub struct ContactOutcome {
    pub contacts: usize,
    /// Contacts that ended as their script says (recorded, alerted, or deleted).
    pub completed: usize,
    pub alerts: usize,
    pub duplicate_alerts: usize,
    /// Alerts for calls that were recorded or abandoned.
    pub false_alerts: usize,
    pub sweeps: usize,
}

/// The flow logs of these contacts' recording blocks, as one delivery.
fn delivery(ids: &[&ContactId]) -> Value {
    let lines: Vec<Value> = ids.iter().map(|id| connect_logs::recording_line(INSTANCE, id)).collect();
    connect_logs::delivery(&lines)
}

async fn invoke(stack: &LocalStack, function: &str, payload: Value) -> anyhow::Result<Value> {
    match stack.invoke(function, payload).await? {
        InvokeOutcome::Ok(v) => Ok(v),
        InvokeOutcome::FunctionError(e) => anyhow::bail!("{function} failed: {e}"),
    }
}

/// Scripts `n` calls on the Connect fake at `connect` and delivers their flow logs
/// `copies` times (in deliveries of 10), then stores the recordings of the recorded ones.
pub async fn start(stack: &LocalStack, connect: &str, n: usize, copies: usize) -> anyhow::Result<ContactLoad> {
    let calls: Vec<(ContactId, Fate)> = (0..n)
        .map(|i| {
            let id = ContactId::parse(&uuid::Uuid::new_v4().to_string()).map_err(|e| anyhow::anyhow!("{e}"))?;
            Ok((id, [Fate::Recorded, Fate::Unrecorded, Fate::Abandoned][i % 3]))
        })
        .collect::<anyhow::Result<_>>()?;
    let scripts: Vec<Value> = calls
        .iter()
        .map(|(id, fate)| {
            let lifecycle = if *fate == Fate::Abandoned { "abandoned" } else { "answered" };
            json!({"instance_id": INSTANCE, "contact_id": id.as_str(), "lifecycle": lifecycle, "stage_secs": 2})
        })
        .collect();
    let resp = kit::http::client()?.post(format!("{connect}/__contacts")).json(&scripts).send().await?;
    anyhow::ensure!(resp.status().as_u16() == 201, "script contacts: {}", resp.text().await.unwrap_or_default());
    for _ in 0..copies {
        for chunk in calls.chunks(10) {
            let ids: Vec<&ContactId> = chunk.iter().map(|(id, _)| id).collect();
            invoke(stack, "ingest-connect-logs", delivery(&ids)).await?;
        }
    }
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(stack.sdk_config()).force_path_style(true).build(),
    );
    let bucket = stack.provisioned().bucket_name("RecordingBucket")?.to_owned();
    for (id, _) in calls.iter().filter(|(_, f)| *f == Fate::Recorded) {
        let key = contacts::recording::recording_key(PREFIX, id.as_str(), chrono::Utc::now());
        s3.put_object().bucket(&bucket).key(key).body(b"RIFF....WAVE".to_vec().into()).send().await?;
    }
    Ok(ContactLoad { calls })
}

/// One sweep, as the five-minute schedule would fire it; a runner being killed just
/// loses this one (the next sweep finds the same work).
pub async fn sweep(stack: &LocalStack) -> bool {
    invoke(stack, "recording-sweep", json!({})).await.is_ok()
}

/// Alerts on the recording-missing topic so far, by contact id (consumed).
async fn take_alerts(
    sqs: &aws_sdk_sqs::Client,
    stack: &LocalStack,
    into: &mut HashMap<String, usize>,
) -> anyhow::Result<()> {
    for body in super::drain_bodies(sqs, stack.provisioned().queue_url("RecordingMissingAlertsQueue")?).await? {
        let alert: Value = serde_json::from_str(&body)?;
        if alert["type"] == "contact.recording-missing" {
            *into.entry(alert["payload"]["contact_id"].as_str().unwrap_or_default().to_owned()).or_default() += 1;
        }
    }
    Ok(())
}

/// Sweeps every few seconds until every call ended as scripted (or `timeout`), then
/// a few more times (to catch a second alert), and counts.
pub async fn settle(
    stack: &LocalStack,
    sqs: &aws_sdk_sqs::Client,
    load: &ContactLoad,
    timeout: Duration,
) -> anyhow::Result<ContactOutcome> {
    let store = DynamoContactStore::new(
        aws_sdk_dynamodb::Client::new(stack.sdk_config()),
        stack.provisioned().table_name("ContactsTable")?,
    );
    let mut out = ContactOutcome { contacts: load.calls.len(), ..Default::default() };
    let mut alerts: HashMap<String, usize> = HashMap::new();
    let deadline = Instant::now() + timeout;
    let mut extra_sweeps = 3;
    loop {
        out.sweeps += usize::from(sweep(stack).await);
        tokio::time::sleep(Duration::from_secs(3)).await;
        take_alerts(sqs, stack, &mut alerts).await?;
        let mut completed = 0;
        for (id, fate) in &load.calls {
            let contact = store.get(id).await?;
            let alerted = alerts.get(id.as_str()).copied().unwrap_or(0);
            completed += usize::from(match fate {
                Fate::Recorded => contact.is_some_and(|c| c.recording_state == Some(RecordingState::Recorded)),
                Fate::Unrecorded => {
                    contact.is_some_and(|c| c.recording_state == Some(RecordingState::Missing)) && alerted >= 1
                }
                Fate::Abandoned => contact.is_none(),
            });
        }
        out.completed = completed;
        if completed == load.calls.len() {
            extra_sweeps -= 1;
        }
        if extra_sweeps == 0 || Instant::now() > deadline {
            break;
        }
    }
    out.alerts = alerts.values().sum();
    out.duplicate_alerts = alerts.values().map(|n| n.saturating_sub(1)).sum();
    out.false_alerts =
        load.calls.iter().filter(|(id, fate)| *fate != Fate::Unrecorded && alerts.contains_key(id.as_str())).count();
    Ok(out)
}
