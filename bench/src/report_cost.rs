//! The report workflow (seed 000) end to end on the local stack: AWS requests per
//! report counted from the real calls (the fault proxy counts every request the
//! functions make; the pollers count the event-source-mapping's own SQS calls),
//! turned into a cost per 1,000 reports at list prices, and the latency of one
//! report with the emulator's share.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use activity::dynamo::DynamoActivityStore;
use activity::{LoginEvent, LoginRecorder, RawLoginEvent};
use aws_sdk_dynamodb::types::AttributeValue;
use local_stack::{LocalStack, StackOptions};
use serde_json::json;

use crate::pipeline::time_requests;
use crate::settle::settled_requests;
use crate::stats::median;

/// Events listed per report in these runs: the common case, one suspicious sign-in.
pub const EVENTS_PER_REPORT: usize = 1;

pub struct ReportFigures {
    pub burst_reports: usize,
    pub burst_runs: usize,
    /// Requests per report by `Service.Operation` (medians over the runs); `ESM:` keys
    /// are the event-source mapping's own calls.
    pub burst_per_report: BTreeMap<String, f64>,
    pub single_reports: usize,
    pub single_per_report: BTreeMap<String, f64>,
    pub latency_p50_ms: f64,
    pub latency_p99_ms: f64,
    /// Median emulator time per request kind, measured one at a time.
    pub emulator_ms: BTreeMap<String, f64>,
}

pub(crate) async fn seed(store: &DynamoActivityStore, user: &str, event: &str) -> anyhow::Result<()> {
    let raw = RawLoginEvent {
        user_id: user.to_owned(),
        service_id: "svc".into(),
        service_name: "Bench service".into(),
        timestamp: "2024-06-01T10:00:00Z".into(),
        event_id: Some(event.to_owned()),
        session_id: None,
    };
    store.record(&LoginEvent::parse(raw, chrono::Utc::now())?).await?;
    Ok(())
}

pub(crate) fn body(report_id: &str, user: &str, event: &str) -> String {
    json!({"report_id": report_id, "user_id": user, "email": "bench@example.gov.uk",
           "event_ids": [event], "reported_at": "2024-06-01T12:00:00Z"})
    .to_string()
}

struct Rig {
    stack: LocalStack,
    sqs: aws_sdk_sqs::Client,
    ddb: aws_sdk_dynamodb::Client,
    store: DynamoActivityStore,
    queue: String,
    reports_table: String,
}

impl Rig {
    /// Seeds `n` users with one event each; returns (user, event, report id).
    async fn prepare(&self, tag: &str, n: usize) -> anyhow::Result<Vec<(String, String, String)>> {
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let user = format!("bench-{tag}-{i}-{}", std::process::id());
            let event = format!("evt-{i}");
            seed(&self.store, &user, &event).await?;
            out.push((user, event, uuid::Uuid::new_v4().to_string()));
        }
        Ok(out)
    }

    async fn send(&self, batch: &[(String, String, String)]) -> anyhow::Result<()> {
        for chunk in batch.chunks(10) {
            let mut req = self.sqs.send_message_batch().queue_url(&self.queue);
            for (i, (user, event, report)) in chunk.iter().enumerate() {
                req = req.entries(
                    aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .message_body(body(report, user, event))
                        .build()?,
                );
            }
            req.send().await?;
        }
        Ok(())
    }

    async fn completed_at(&self, report_id: &str) -> Option<chrono::DateTime<chrono::Utc>> {
        let out = self
            .ddb
            .get_item()
            .table_name(&self.reports_table)
            .key("report_id", AttributeValue::S(report_id.to_owned()))
            .send()
            .await
            .ok()?;
        out.item?.get("completed_at")?.as_s().ok()?.parse().ok()
    }

    async fn wait_completed(&self, reports: &[(String, String, String)], timeout: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        for (_, _, id) in reports {
            while self.completed_at(id).await.is_none() {
                anyhow::ensure!(Instant::now() < deadline, "report {id} not completed in {timeout:?}");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        Ok(())
    }

    /// Requests per report while `reports` ran (counters reset first; the final
    /// deletes of the last batches are waited for).
    async fn counted_run(&self, reports: &[(String, String, String)]) -> anyhow::Result<BTreeMap<String, f64>> {
        settled_requests(&self.stack).await?;
        self.stack.reset_aws_requests();
        self.send(reports).await?;
        self.wait_completed(reports, Duration::from_secs(600)).await?;
        let n = reports.len() as f64;
        Ok(settled_requests(&self.stack).await?.into_iter().map(|(k, v)| (k, v as f64 / n)).collect())
    }
}

pub async fn measure(workspace: &Path, runs: usize, burst: usize, singles: usize) -> anyhow::Result<ReportFigures> {
    let release = workspace.join("target").join("release");
    let stack = LocalStack::start(StackOptions::for_workspace(workspace).with_bin_dir(&release).quiet()).await?;
    let rig = Rig {
        sqs: aws_sdk_sqs::Client::new(stack.sdk_config()),
        ddb: aws_sdk_dynamodb::Client::new(stack.sdk_config()),
        store: DynamoActivityStore::new(
            aws_sdk_dynamodb::Client::new(stack.sdk_config()),
            stack.provisioned().table_name("ActivityTable")?,
        ),
        queue: stack.provisioned().queue_url("ReportSuspiciousActivityQueue")?.to_owned(),
        reports_table: stack.provisioned().table_name("ReportsTable")?.to_owned(),
        stack,
    };
    // Warm every function once (cold starts fetch secrets: not a per-report cost).
    let warm = rig.prepare("warm", 1).await?;
    rig.send(&warm).await?;
    rig.wait_completed(&warm, Duration::from_secs(120)).await?;

    // Bursts: many reports at once, so the event-source mapping forms batches.
    let mut per_run: Vec<BTreeMap<String, f64>> = Vec::new();
    for run in 0..runs {
        let reports = rig.prepare(&format!("burst{run}"), burst).await?;
        per_run.push(rig.counted_run(&reports).await?);
    }
    let burst_per_report = median_by_key(&per_run);

    // One at a time: every batch holds one message (the worst case for cost), and
    // the latency of a report through an idle pipeline.
    let reports = rig.prepare("single", singles).await?;
    rig.stack.reset_aws_requests();
    let mut latencies = Vec::with_capacity(singles);
    for r in &reports {
        let sent = SystemTime::now();
        rig.send(std::slice::from_ref(r)).await?;
        rig.wait_completed(std::slice::from_ref(r), Duration::from_secs(60)).await?;
        if let Some(done) = rig.completed_at(&r.2).await {
            let sent: chrono::DateTime<chrono::Utc> = sent.into();
            latencies.push((done - sent).num_microseconds().unwrap_or(0) as f64 / 1e3);
        }
    }
    let single_per_report: BTreeMap<String, f64> =
        settled_requests(&rig.stack).await?.into_iter().map(|(k, v)| (k, v as f64 / singles as f64)).collect();

    let emulator_ms = emulator_latencies(&rig).await?;
    let (p50, p99) = percentiles(&mut latencies);
    rig.stack.shutdown().await;
    Ok(ReportFigures {
        burst_reports: burst,
        burst_runs: runs,
        burst_per_report,
        single_reports: singles,
        single_per_report,
        latency_p50_ms: p50,
        latency_p99_ms: p99,
        emulator_ms,
    })
}

pub(crate) fn median_by_key(runs: &[BTreeMap<String, f64>]) -> BTreeMap<String, f64> {
    let mut keys: Vec<&String> = runs.iter().flat_map(|r| r.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .map(|k| {
            let mut v: Vec<f64> = runs.iter().map(|r| r.get(k).copied().unwrap_or(0.0)).collect();
            (k.clone(), median(&mut v))
        })
        .collect()
}

/// p50 and p99 (nearest rank).
pub(crate) fn percentiles(samples: &mut [f64]) -> (f64, f64) {
    if samples.is_empty() {
        return (0.0, 0.0);
    }
    samples.sort_by(|a, b| a.total_cmp(b));
    let rank = |p: f64| samples[((p * samples.len() as f64).ceil() as usize).clamp(1, samples.len()) - 1];
    (rank(0.50), rank(0.99))
}

/// The emulator's own time for each kind of request the workflow makes.
async fn emulator_latencies(rig: &Rig) -> anyhow::Result<BTreeMap<String, f64>> {
    let (ddb, sqs) = (rig.ddb.clone(), rig.sqs.clone());
    let table = rig.reports_table.clone();
    let key = |i: usize| AttributeValue::S(format!("probe-{i}"));
    let mut out = BTreeMap::new();
    let t = table.clone();
    out.insert(
        "DynamoDB.UpdateItem".into(),
        time_requests(50, |i| {
            let (ddb, t) = (ddb.clone(), t.clone());
            async move {
                let _ignored = ddb
                    .update_item()
                    .table_name(t)
                    .key("report_id", key(i))
                    .update_expression("SET probe = :p")
                    .expression_attribute_values(":p", AttributeValue::N("1".into()))
                    .send()
                    .await;
            }
        })
        .await,
    );
    let t = table.clone();
    out.insert(
        "DynamoDB.GetItem".into(),
        time_requests(50, |i| {
            let (ddb, t) = (ddb.clone(), t.clone());
            async move {
                let _ignored = ddb.get_item().table_name(t).key("report_id", key(i)).send().await;
            }
        })
        .await,
    );
    let t = table.clone();
    out.insert(
        "DynamoDB.TransactWriteItems".into(),
        time_requests(50, |i| {
            let (ddb, t) = (ddb.clone(), t.clone());
            async move {
                let put = aws_sdk_dynamodb::types::Put::builder()
                    .table_name(&t)
                    .item("report_id", AttributeValue::S(format!("probe-tx-{i}")))
                    .build();
                let update = aws_sdk_dynamodb::types::Update::builder()
                    .table_name(&t)
                    .key("report_id", key(i))
                    .update_expression("SET probe = :p")
                    .expression_attribute_values(":p", AttributeValue::N("2".into()))
                    .build();
                if let (Ok(put), Ok(update)) = (put, update) {
                    let _ignored = ddb
                        .transact_write_items()
                        .transact_items(aws_sdk_dynamodb::types::TransactWriteItem::builder().put(put).build())
                        .transact_items(aws_sdk_dynamodb::types::TransactWriteItem::builder().update(update).build())
                        .send()
                        .await;
                }
            }
        })
        .await,
    );
    let probe = sqs.create_queue().queue_name("bench-report-probe").send().await?.queue_url.unwrap_or_default();
    out.insert(
        "SQS.SendMessage".into(),
        time_requests(50, |i| {
            let (sqs, url) = (sqs.clone(), probe.clone());
            async move {
                let _ignored = sqs.send_message().queue_url(url).message_body(format!("probe {i}")).send().await;
            }
        })
        .await,
    );
    let sns = aws_sdk_sns::Client::new(rig.stack.sdk_config());
    // A fresh topic: publishing to the workflow's topics would start workflows.
    let probe_topic = sns.create_topic().name("bench-report-probe").send().await?.topic_arn.unwrap_or_default();
    out.insert(
        "SNS.Publish".into(),
        time_requests(50, |i| {
            let (sns, arn) = (sns.clone(), probe_topic.clone());
            async move {
                let _ignored = sns.publish().topic_arn(arn).message(format!("probe {i}")).send().await;
            }
        })
        .await,
    );
    Ok(out)
}
