//! Every function of the template on its own: invoked through the local Lambda
//! service's Invoke API with its sample events (batches of 1 and 10 for SQS steps),
//! timing the invocation and reading the function process's CPU time and peak RSS
//! from /proc. The events are the samples in `events/<function>/`, as they are:
//! after the first run they are redeliveries (the steps' duplicate path), which is
//! what a step mostly sees under at-least-once delivery with retries.

use std::path::Path;
use std::time::Instant;

use local_stack::template::{types, Template};
use local_stack::{LocalStack, StackOptions};
use serde_json::{json, Value};

use crate::pipeline::pid_of;
use crate::stats::{median, peak_rss_kib};

pub struct FunctionFigures {
    pub function: String,
    pub sample: String,
    /// Median wall time of one invocation, per record: batch of 1, batch of 10.
    pub wall_ms: (f64, Option<f64>),
    /// Mean CPU time of the function process per record over the runs: batch of 1, batch of 10.
    pub cpu_ms: (f64, Option<f64>),
    pub peak_rss_kib: Option<u64>,
}

/// The binaries the template deploys, in logical-id order.
pub fn binaries(workspace: &Path) -> anyhow::Result<Vec<String>> {
    let t = Template::load(&workspace.join("infra/template.yaml"))?;
    Ok(t.resources_of(types::SERVERLESS_FUNCTION)
        .filter_map(|f| f.metadata.pointer("/BuildProperties/Binary").and_then(Value::as_str).map(str::to_owned))
        .collect())
}

/// Process CPU (user + system) in ms, from /proc/<pid>/stat.
fn cpu_ms(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks * 10.0)
}

/// An SQS event of `n` records cycling through the sample's records.
fn sqs_batch(sample: &Value, n: usize) -> Option<Value> {
    let records = sample.get("Records")?.as_array()?;
    if records.is_empty() {
        return None;
    }
    let batch: Vec<Value> = (0..n)
        .map(|i| {
            let mut r = records[i % records.len()].clone();
            r["messageId"] = json!(format!("bench-{i}"));
            r
        })
        .collect();
    Some(json!({ "Records": batch }))
}

/// The sample event of a function: its SQS batch fixture, else its first JSON file.
fn sample(workspace: &Path, binary: &str) -> Option<(String, Value)> {
    let dir = workspace.join("events").join(binary);
    let mut files: Vec<_> = std::fs::read_dir(&dir).ok()?.flatten().map(|e| e.path()).collect();
    files.sort();
    let pick = files
        .iter()
        .find(|p| p.file_name().is_some_and(|n| n == "sqs-batch.json"))
        .or_else(|| files.iter().find(|p| p.extension().is_some_and(|e| e == "json")))?;
    let value: Value = serde_json::from_str(&std::fs::read_to_string(pick).ok()?).ok()?;
    Some((pick.file_name()?.to_string_lossy().into_owned(), value))
}

async fn time_invocations(
    stack: &LocalStack,
    binary: &str,
    pid: Option<u32>,
    event: &Value,
    records: usize,
    runs: usize,
) -> (f64, f64) {
    // CPU comes in 10 ms ticks: measured over all runs, not per invocation.
    let mut wall = Vec::new();
    let before = pid.and_then(cpu_ms);
    for _ in 0..runs {
        let t0 = Instant::now();
        let _ = stack.invoke(binary, event.clone()).await;
        wall.push(t0.elapsed().as_secs_f64() * 1e3 / records as f64);
    }
    let cpu = match (before, pid.and_then(cpu_ms)) {
        (Some(b), Some(a)) => (a - b) / (runs * records) as f64,
        _ => f64::NAN,
    };
    (median(&mut wall), cpu)
}

pub async fn measure(workspace: &Path, runs: usize) -> anyhow::Result<Vec<FunctionFigures>> {
    let release = workspace.join("target").join("release");
    let options =
        StackOptions::for_workspace(workspace).with_bin_dir(&release).without_pollers().without_schedules().quiet();
    let stack = LocalStack::start(options).await?;
    let mut out = Vec::new();
    for binary in binaries(workspace)? {
        let Some((file, event)) = sample(workspace, &binary) else {
            out.push(FunctionFigures {
                function: binary,
                sample: "no sample event".into(),
                wall_ms: (f64::NAN, None),
                cpu_ms: (f64::NAN, None),
                peak_rss_kib: None,
            });
            continue;
        };
        // Warm it (the cold start is measured separately), then find its process.
        let one = sqs_batch(&event, 1).unwrap_or_else(|| event.clone());
        let _ = stack.invoke(&binary, one.clone()).await;
        let pid = pid_of(&release.join(&binary));
        let (w1, c1) = time_invocations(&stack, &binary, pid, &one, 1, runs).await;
        let ten = sqs_batch(&event, 10);
        let (w10, c10) = match &ten {
            Some(ten) => {
                let (w, c) = time_invocations(&stack, &binary, pid, ten, 10, runs).await;
                (Some(w), Some(c))
            }
            None => (None, None),
        };
        out.push(FunctionFigures {
            function: binary,
            sample: file,
            wall_ms: (w1, w10),
            cpu_ms: (c1, c10),
            peak_rss_kib: pid.and_then(peak_rss_kib),
        });
    }
    stack.shutdown().await;
    Ok(out)
}
