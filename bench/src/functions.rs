//! Every function of the template on its own: its real release binary under the
//! local Lambda service, invoked through the Invoke API down the path its scenario
//! seeds (first-time work, see `scenario`), with batches of 1 and 10 records for
//! SQS steps, then the same events again (the redelivery path). Per function: cold
//! init over fresh processes, wall and CPU time per record, peak RSS, and what each
//! pass did, checked from the function's answers or its log lines.

use std::path::Path;
use std::time::{Duration, Instant};

use local_stack::template::{types, Template};
use local_stack::{InvokeOutcome, LocalStack, StackOptions};
use serde_json::{json, Value};

use crate::cold_init;
use crate::pipeline::pid_of;
use crate::scenario::{self, tally_logs, Check, Env, Scenario, Tally};
use crate::stats::{median, peak_rss_kib, process_cpu_ms};

/// One pass of invocations at one batch size.
pub struct Pass {
    pub records: usize,
    pub invocations: usize,
    /// Median over the invocations of wall time per record: the local service, the
    /// function and the emulator it calls.
    pub wall_ms: f64,
    /// Median over the invocations of the function process's CPU time per record.
    pub cpu_ms: f64,
    pub tally: Tally,
}

pub struct FunctionFigures {
    pub function: String,
    /// What was measured, or why nothing was.
    pub path: String,
    /// Cold inits of fresh processes, ms.
    pub init_ms: Vec<f64>,
    pub first: Vec<Pass>,
    pub redelivery: Vec<Pass>,
    pub peak_rss_kib: Option<u64>,
}

/// The binaries the template deploys, in the template's order.
pub fn binaries(workspace: &Path) -> anyhow::Result<Vec<String>> {
    let t = Template::load(&workspace.join("infra/template.yaml"))?;
    Ok(t.resources_of(types::SERVERLESS_FUNCTION)
        .filter_map(|f| f.metadata.pointer("/BuildProperties/Binary").and_then(Value::as_str).map(str::to_owned))
        .collect())
}

/// What to invoke in a pass: fresh events from the scenario, or these again.
enum Events {
    Fresh(usize),
    Again(Vec<Value>),
}

fn answer(outcome: Result<InvokeOutcome, local_stack::InvokeError>) -> Result<Value, Value> {
    match outcome {
        Ok(outcome) => outcome.into_result(),
        Err(e) => Err(json!({ "invoke": e.to_string() })),
    }
}

struct Target<'a> {
    stack: &'a LocalStack,
    binary: &'a str,
    path: &'a Path,
}

impl Target<'_> {
    /// Invokes `invocations` times; returns the pass and the events sent.
    async fn pass(
        &self,
        sc: &mut dyn Scenario,
        records: usize,
        events: Events,
        invocations: usize,
    ) -> anyhow::Result<(Pass, Vec<Value>)> {
        let logs_before = tally_logs(&self.stack.function_logs(self.binary));
        let (mut wall, mut cpu, mut sent) = (Vec::new(), Vec::new(), Vec::new());
        let mut tally = Tally::default();
        let mut not_done = 0;
        for i in 0..invocations {
            let event = match &events {
                Events::Fresh(k) => sc.prepare(*k).await?,
                Events::Again(all) => all.get(i).cloned().unwrap_or_default(),
            };
            let pid = pid_of(self.path);
            let cpu0 = pid.and_then(process_cpu_ms);
            let t0 = Instant::now();
            let outcome = self.stack.invoke(self.binary, event.clone()).await;
            wall.push(t0.elapsed().as_secs_f64() * 1e3 / records as f64);
            if let (Some(a), Some(b)) = (cpu0, pid.and_then(process_cpu_ms)) {
                cpu.push((b - a) / records as f64);
            }
            if sc.check() == Check::Answer {
                tally.add(sc.tally(&answer(outcome), records));
            }
            not_done += sc.after().await?;
            sent.push(event);
        }
        if sc.check() == Check::RecordLogs {
            // Log lines reach the service through a pipe: wait (up to a deadline) for
            // every record's line; a line still missing then counts as not done.
            let expected = records * invocations;
            let deadline = Instant::now() + Duration::from_secs(5);
            loop {
                tally = tally_logs(&self.stack.function_logs(self.binary)).since(logs_before);
                if tally.done + tally.duplicate + tally.failed >= expected || Instant::now() >= deadline {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        tally.done = tally.done.saturating_sub(not_done);
        tally.failed += not_done;
        let pass = Pass { records, invocations, wall_ms: median(&mut wall), cpu_ms: median(&mut cpu), tally };
        Ok((pass, sent))
    }
}

async fn one(
    stack: &LocalStack,
    env: &Env<'_>,
    release: &Path,
    binary: &str,
    invocations: usize,
    restarts: usize,
) -> anyhow::Result<FunctionFigures> {
    let logical_id = stack
        .invoker()
        .spec(binary)
        .map(|s| s.logical_id.clone())
        .ok_or_else(|| anyhow::anyhow!("{binary} is not running"))?;
    let mut sc = scenario::for_function(binary, env).await?;
    let path = release.join(binary);
    let init_ms = cold_init::measure(stack, &path, &logical_id, restarts).await?;
    let target = Target { stack, binary, path: &path };

    // The new process's first call opens connections and reads its secrets: not counted.
    let warm = sc.prepare(1).await?;
    let _first_call = stack.invoke(binary, warm).await;
    sc.after().await?;

    let mut first = Vec::new();
    let mut sent = Vec::new();
    for &k in sc.sizes() {
        let (pass, events) = target.pass(sc.as_mut(), k, Events::Fresh(k), invocations).await?;
        first.push(pass);
        sent.push((k, events));
    }
    let mut redelivery = Vec::new();
    for (k, events) in sent {
        let Some(again) = events.iter().map(|e| sc.redelivery(e)).collect::<Option<Vec<_>>>() else { continue };
        redelivery.push(target.pass(sc.as_mut(), k, Events::Again(again), invocations).await?.0);
    }
    Ok(FunctionFigures {
        function: binary.to_owned(),
        path: sc.path(),
        init_ms,
        first,
        redelivery,
        peak_rss_kib: pid_of(&path).and_then(peak_rss_kib),
    })
}

pub async fn measure(workspace: &Path, invocations: usize, restarts: usize) -> anyhow::Result<Vec<FunctionFigures>> {
    let release = workspace.join("target").join("release");
    let options =
        StackOptions::for_workspace(workspace).with_bin_dir(&release).without_pollers().without_schedules().quiet();
    let stack = LocalStack::start(options).await?;
    let env = Env { stack: &stack, workspace, run: uuid::Uuid::new_v4().simple().to_string()[..8].to_owned() };
    let mut out = Vec::new();
    for binary in scenario::ordered(binaries(workspace)?) {
        eprintln!("bench:   {binary}");
        match one(&stack, &env, &release, &binary, invocations, restarts).await {
            Ok(figures) => out.push(figures),
            Err(e) => out.push(FunctionFigures {
                function: binary,
                path: format!("not measured: {e:#}"),
                init_ms: Vec::new(),
                first: Vec::new(),
                redelivery: Vec::new(),
                peak_rss_kib: None,
            }),
        }
    }
    stack.shutdown().await;
    Ok(out)
}
