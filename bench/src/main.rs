//! `make bench`: measures the kit, record-login end to end, the report workflow's
//! cost, and every function on its own (cold init, time and CPU per record, memory,
//! sizes), and writes the figures to docs/benchmarks.md beside the baseline's.
//! Never run by `make test`: the machine is shared and noisy, so figures are
//! medians of several runs, not assertions.

mod baseline;
mod cold_init;
mod cost;
mod function_table;
mod functions;
mod iam_overhead;
mod kit_overhead;
mod load;
mod pipeline;
mod realtime;
mod report_cost;
mod scenario;
mod settle;
mod sizes;
mod stats;
mod workflow_cost;

use std::fmt::Write as _;
use std::path::PathBuf;

struct Args {
    out: PathBuf,
    save_baseline: bool,
    runs: usize,
    records: usize,
    /// Invocations per batch size and path, per function.
    invocations: usize,
    /// Fresh processes per function for its cold init: more than `runs`, since
    /// one restart costs milliseconds and a median of few moves by a millisecond.
    restarts: usize,
    /// Measure only IAM enforcement's cost and print its section.
    only_iam: bool,
    /// Measure only the real-time notification latency and print its section.
    only_realtime: bool,
    /// Measure only every function on its own (cold init included) and print its section.
    only_functions: bool,
}

fn args() -> anyhow::Result<Args> {
    let mut a = Args {
        out: PathBuf::from("docs/benchmarks.md"),
        save_baseline: false,
        runs: 5,
        records: 200,
        invocations: 10,
        restarts: 15,
        only_iam: false,
        only_realtime: false,
        only_functions: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| anyhow::anyhow!("{flag} needs a value"));
        match flag.as_str() {
            "--out" => a.out = PathBuf::from(value()?),
            "--runs" => a.runs = value()?.parse()?,
            "--records" => a.records = value()?.parse()?,
            "--invocations" => a.invocations = value()?.parse()?,
            "--restarts" => a.restarts = value()?.parse()?,
            "--save-baseline" => a.save_baseline = true,
            "--only-iam" => a.only_iam = true,
            "--only-realtime" => a.only_realtime = true,
            "--only-functions" => a.only_functions = true,
            other => {
                anyhow::bail!("unknown flag {other} (known: --out, --runs, --records, --invocations, --restarts, --save-baseline, --only-iam, --only-realtime, --only-functions)")
            }
        }
    }
    anyhow::ensure!(
        a.runs >= 1 && a.invocations >= 1 && a.restarts >= 1,
        "--runs, --invocations and --restarts must be at least 1"
    );
    Ok(a)
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| m.lines().next().and_then(|l| l.split_whitespace().nth(1)).and_then(|kb| kb.parse::<f64>().ok()))
        .map(|kb| format!(", {:.0} GB RAM", kb / 1024.0 / 1024.0))
        .unwrap_or_default();
    format!("{cores} cores ({cpu}){memory}, shared with other work; moto 5.2.5 as the emulator")
}

fn iam_section(md: &mut String, iam: &iam_overhead::IamFigures) -> anyhow::Result<()> {
    writeln!(md, "## IAM enforcement's cost per AWS call (local stack)\n")?;
    writeln!(md, "Every call a function makes through the local stack's proxy is authorized first (`infra/local/src/iam/`): the request parsed into IAM actions and resource ARNs, the function's effective policy, the resource's policy and, for encrypted targets, the key policy evaluated, the ledger updated. Timed in process, {} runs of {} decisions per kind, on the shipped template's principals; the figure is the median over runs of the mean time per decision.\n", iam.runs, iam.requests_per_run)?;
    writeln!(md, "| request | per call | target |\n|---|---|---|")?;
    for (kind, us) in &iam.per_kind_us {
        writeln!(md, "| {kind} | {us:.1} µs | |")?;
    }
    writeln!(md, "| all kinds | {:.1} µs | < 200 µs {} |\n", iam.overall_us, mark(iam.overall_us < 200.0))?;
    Ok(())
}

/// Workflows of the real-time latency scenario (3 actions each).
const REALTIME_WORKFLOWS: usize = 34;

fn mark(ok: bool) -> &'static str {
    if ok {
        "✅"
    } else {
        "❌"
    }
}

fn main() -> anyhow::Result<()> {
    let args = args()?;
    let workspace = local_stack::find_workspace_root();
    if args.only_iam {
        let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
        let iam = rt.block_on(iam_overhead::measure(&workspace, args.runs, 2_000))?;
        let mut md = String::new();
        iam_section(&mut md, &iam)?;
        print!("{md}");
        return Ok(());
    }
    if args.only_realtime {
        let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
        // The binaries `cargo build --workspace --bins` made (CARGO_TARGET_DIR honoured).
        let bin_dir = local_stack::StackOptions::for_workspace(&workspace).bin_dir;
        let figures = rt.block_on(realtime::measure(&workspace, &bin_dir, REALTIME_WORKFLOWS))?;
        let mut md = String::new();
        realtime::section(&mut md, &figures)?;
        print!("{md}");
        return Ok(());
    }
    if args.only_functions {
        let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
        let (load_at_start, watch) = (load::loadavg(), load::Watch::start());
        let per_function = rt.block_on(functions::measure(&workspace, args.invocations, args.restarts))?;
        let names: Vec<&str> = per_function.iter().map(|f| f.function.as_str()).collect();
        let host = sizes::measure(&workspace.join("target").join("release"), &names);
        let mut md = String::new();
        writeln!(
            md,
            "Load: {load_at_start} at the start, the 1-minute average at most {:.2} during the run.\n",
            watch.finish()
        )?;
        function_table::section(&mut md, &per_function, &host, args.invocations, args.restarts)?;
        print!("{md}");
        return Ok(());
    }
    let started = chrono::Utc::now();
    let (load_at_start, busy) = (load::loadavg(), load::busy_processes(std::time::Duration::from_secs(3), 0.05));
    let watch = load::Watch::start();
    eprintln!("bench: kit overhead ({} runs)…", args.runs);
    let kit = kit_overhead::measure(args.runs, 2_000)?;
    eprintln!("bench: sizes…");
    let binaries = functions::binaries(&workspace)?;
    let names: Vec<&str> = binaries.iter().map(String::as_str).collect();
    let mut sizes: Vec<(&str, sizes::Size)> = sizes::measure(&workspace.join("target").join("release"), &names)
        .into_iter()
        .map(|s| ("x86_64 (host)", s))
        .collect();
    let arm = workspace.join("target").join("aarch64-unknown-linux-gnu").join("release");
    sizes.extend(sizes::measure(&arm, &names).into_iter().map(|s| ("arm64 (deployed)", s)));
    eprintln!("bench: record-login on the local stack ({} runs of {} records)…", args.runs, args.records);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    eprintln!("bench: IAM enforcement's cost per AWS call ({} runs)…", args.runs);
    let iam = rt.block_on(iam_overhead::measure(&workspace, args.runs, 2_000))?;
    let pipe = rt.block_on(pipeline::measure(&workspace, args.runs, args.records))?;
    eprintln!("bench: the report workflow on the local stack…");
    let reports = rt.block_on(report_cost::measure(&workspace, args.runs, 50, 40))?;
    eprintln!("bench: the approval and audit workflows on the local stack ({} runs of 20)…", args.runs);
    let workflows = rt.block_on(workflow_cost::measure(&workspace, args.runs, 20))?;
    eprintln!("bench: real-time notifications ({REALTIME_WORKFLOWS} workflows)…");
    let live =
        rt.block_on(realtime::measure(&workspace, &workspace.join("target").join("release"), REALTIME_WORKFLOWS))?;
    eprintln!(
        "bench: every function on its own ({} invocations per path, {} cold starts)…",
        args.invocations, args.restarts
    );
    let per_function = rt.block_on(functions::measure(&workspace, args.invocations, args.restarts))?;
    let finished = chrono::Utc::now();
    let highest_load = watch.finish();
    // The bench's stacks are shut down by now: what is busy is someone else.
    let busy_at_end = load::busy_processes(std::time::Duration::from_secs(3), 0.05);

    let mut md = String::new();
    writeln!(md, "# Benchmarks\n")?;
    writeln!(
        md,
        "Written by `make bench` from {} to {} UTC. Machine: {}.\n",
        started.format("%Y-%m-%d %H:%M"),
        finished.format("%H:%M"),
        machine()
    )?;
    writeln!(
        md,
        "Load: 1/5/15-minute load averages {load_at_start} at the start and {} at the end, the 1-minute one at most {highest_load:.2} \
         during the run, the bench's own load included (the emulator, the function processes and the local service share the same cores); {}; {}.\n",
        load::loadavg(),
        load::describe("at the start", &busy),
        load::describe("at the end", &busy_at_end)
    )?;
    writeln!(md, "Every figure is the median of the runs stated; nothing here is asserted by `make test`.\n")?;

    writeln!(md, "## The kit's CPU overhead per record (I/O faked)\n")?;
    writeln!(md, "Batches of 10 realistic login bodies through `BatchRunner::run` with a no-op step and no-op queue operations, on a single-threaded runtime: decode, span, task spawn, the JSON log line per record, EMF counters and their flush per batch (to a sink), settle, partial batch response. {} runs of {} records.\n", kit.runs, kit.records_per_run)?;
    writeln!(md, "| measure | per record | target |\n|---|---|---|")?;
    writeln!(md, "| CPU time | {:.1} µs | < 50 µs {} |", kit.cpu_us_per_record, mark(kit.cpu_us_per_record < 50.0))?;
    writeln!(md, "| wall time | {:.1} µs | |\n", kit.wall_us_per_record)?;

    iam_section(&mut md, &iam)?;

    writeln!(md, "## record-login through the local stack\n")?;
    writeln!(md, "{} runs of {} login events sent with `SendMessageBatch` to `login-events`, timed until every activity item exists and the queue is empty; the release binary runs under the local Lambda service (one instance, batches of 10). Each record costs 2 DynamoDB requests (a transaction and a conditional update); each batch adds a receive and a delete.\n", pipe.runs, pipe.records_per_run)?;
    writeln!(md, "| measure | value |\n|---|---|")?;
    writeln!(md, "| records per second, end to end | {:.0} |", pipe.records_per_second)?;
    writeln!(md, "| emulator: `GetItem`, one at a time | {:.1} ms |", pipe.emulator_get_item_ms)?;
    writeln!(md, "| emulator: `TransactWriteItems` (1 update) | {:.1} ms |", pipe.emulator_transact_ms)?;
    writeln!(md, "| emulator: `SendMessage` | {:.1} ms |", pipe.emulator_sqs_send_ms)?;
    let emulator_ms_per_record =
        pipe.emulator_transact_ms + pipe.emulator_get_item_ms + pipe.emulator_sqs_send_ms * 2.0 / 10.0;
    writeln!(
        md,
        "| emulator time per record (≈ transaction + update + 2/10 SQS calls) | {:.1} ms |",
        emulator_ms_per_record
    )?;
    writeln!(md, "| the kit's CPU per record (above) | {:.3} ms |\n", kit.cpu_us_per_record / 1000.0)?;
    writeln!(
        md,
        "Who is the bottleneck: the emulator spends about {:.0}× more time per record than the kit ({:.1} ms against {:.1} µs). \
         Locally the emulator serialises DynamoDB calls behind one lock (see `docs/decisions.md`); AWS's DynamoDB answers in \
         single-digit milliseconds and runs calls in parallel.\n",
        emulator_ms_per_record * 1000.0 / kit.cpu_us_per_record.max(0.001),
        emulator_ms_per_record,
        kit.cpu_us_per_record
    )?;

    report_section(&mut md, &reports)?;
    for w in &workflows {
        workflow_section(&mut md, w, &reports.emulator_ms)?;
    }
    realtime::section(&mut md, &live)?;
    let host: Vec<sizes::Size> =
        sizes.iter().filter(|(arch, _)| !arch.starts_with("arm64")).map(|(_, s)| s.clone()).collect();
    function_table::section(&mut md, &per_function, &host, args.invocations, args.restarts)?;

    let arm: Vec<&sizes::Size> = sizes.iter().filter(|(arch, _)| arch.starts_with("arm64")).map(|(_, s)| s).collect();
    function_table::arm64_section(&mut md, &arm)?;

    // Against the baseline kept in the repo (the previous release's figures).
    let mut current = baseline::Figures::new();
    current.insert("kit CPU per record (µs)".into(), kit.cpu_us_per_record);
    current.insert("IAM decision per AWS call (µs)".into(), iam.overall_us);
    current.insert("record-login records/s end to end".into(), pipe.records_per_second);
    current.insert(
        "report cost per 1,000, burst ($)".into(),
        cost::per_thousand(&reports.burst_per_report, 1.0 + report_cost::EVENTS_PER_REPORT as f64).total(),
    );
    current.insert("report latency p50 (ms)".into(), reports.latency_p50_ms);
    for w in &workflows {
        let cost = cost::per_thousand(&w.per_workflow, w.items_per_transaction).total();
        current.insert(format!("{} cost per 1,000 ($)", w.name), cost);
    }
    for f in &per_function {
        function_table::baseline_figures(&mut current, f, &host);
    }
    let baseline_path = workspace.join("bench").join("baseline.json");
    baseline::section(&mut md, &current, &baseline::load(&baseline_path))?;
    writeln!(md, "## Renewing the baseline\n")?;
    writeln!(md, "At each release, once `make bench` has run on a quiet machine (no chaos run, no build, load average under 1), run `make bench BENCH_ARGS=--save-baseline` and commit `bench/baseline.json` with that release: the next release's run then reads its ratios against it. Between releases the baseline stays as it is, so a slow drift shows as well as a jump.\n")?;
    writeln!(
        md,
        "Re-run with `make bench` (options: `cargo run --release -p bench -- --runs N --invocations N --restarts N --records N --out FILE [--save-baseline]`, or `--only-functions` to print only the table of every function on its own; `--runs` is the runs of the kit, pipeline and report figures, `--restarts` the cold starts per function, `--invocations` the invocations per batch size and path)."
    )?;
    if args.save_baseline {
        current.insert(baseline::WRITTEN_AT.into(), started.timestamp() as f64);
        baseline::save(&baseline_path, &current)?;
    }

    // Sections written by other runs (the contacts load test, `make contacts-load`,
    // tens of minutes; the cold start profile, bench/init_profile.py) are kept as
    // they were.
    if let Ok(previous) = std::fs::read_to_string(&args.out) {
        for name in KEPT_SECTIONS {
            if let Some(section) = kept_section(&previous, name) {
                writeln!(md, "\n{section}")?;
            }
        }
    }
    if let Some(dir) = args.out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&args.out, &md)?;
    print!("{md}");
    Ok(())
}

fn report_section(md: &mut String, r: &report_cost::ReportFigures) -> anyhow::Result<()> {
    let items = 1.0 + report_cost::EVENTS_PER_REPORT as f64;
    writeln!(md, "## Report suspicious activity: AWS requests and cost per report\n")?;
    writeln!(
        md,
        "Every request the four step functions made, counted by the local stack's AWS proxy, plus the event-source mapping's own SQS calls (`ESM:`; idle long polls excluded: they are a fixed cost per queue, not per report). Reports list {} event; the frontend's `SendMessage` is not counted. **Burst**: {} runs of {} reports sent at once (batches form, as under load); **one at a time**: {} reports, each sent after the previous completed (every batch holds one message: the worst case).\n",
        report_cost::EVENTS_PER_REPORT, r.burst_runs, r.burst_reports, r.single_reports
    )?;
    writeln!(md, "| request | per report, burst | per report, one at a time |\n|---|---|---|")?;
    let mut kinds: Vec<&String> = r.burst_per_report.keys().chain(r.single_per_report.keys()).collect();
    kinds.sort();
    kinds.dedup();
    for k in kinds {
        let b = r.burst_per_report.get(k).copied().unwrap_or(0.0);
        let s = r.single_per_report.get(k).copied().unwrap_or(0.0);
        writeln!(md, "| `{k}` | {b:.2} | {s:.2} |")?;
    }
    let burst = cost::per_thousand(&r.burst_per_report, items);
    let single = cost::per_thousand(&r.single_per_report, items);
    writeln!(md, "\nAt list prices (us-east-1, free tiers ignored; transactions 2 WCU per item; Lambda billed as 128 MB × 100 ms per invocation, an over-estimate):\n")?;
    writeln!(md, "| per 1,000 reports | burst | one at a time |\n|---|---|---|")?;
    for (name, b, s) in [
        ("SQS", burst.sqs, single.sqs),
        ("SNS", burst.sns, single.sns),
        ("DynamoDB", burst.dynamodb, single.dynamodb),
        ("Lambda", burst.lambda, single.lambda),
        ("Secrets Manager", burst.other, single.other),
    ] {
        writeln!(md, "| {name} | ${b:.5} | ${s:.5} |")?;
    }
    writeln!(
        md,
        "| **total** | **${:.4}** {} | **${:.4}** {} |",
        burst.total(),
        mark(burst.total() <= 0.010),
        single.total(),
        mark(single.total() <= 0.010)
    )?;
    writeln!(
        md,
        "\nTarget ≤ $0.010 per 1,000 reports. Beside it, Step Functions Standard (Option 2): the ADR estimates **${:.2}** per 1,000 workflows for the state transitions alone (10 transitions at today's $0.025 per 1,000 transitions is ${:.2}), before the Lambda and DynamoDB work it orchestrates, which Option 2 pays as well.\n",
        cost::ADR_SFN_PER_THOUSAND,
        10.0 * cost::SFN_PER_TRANSITION * 1000.0
    )?;

    writeln!(md, "### Latency of one report through an idle local pipeline\n")?;
    writeln!(md, "From `SendMessage` to the report's `completed_at`, {} reports one after another (p99 of {} samples is their maximum but one).\n", r.single_reports, r.single_reports)?;
    let fallback = r.emulator_ms.get("SQS.SendMessage").copied().unwrap_or(0.0);
    let emulator_share: f64 = r
        .single_per_report
        .iter()
        .filter(|(k, _)| !k.starts_with("ESM:SQS.ReceiveMessage"))
        .map(|(k, n)| n * r.emulator_ms.get(k.trim_start_matches("ESM:")).copied().unwrap_or(fallback))
        .sum();
    writeln!(md, "| measure | value |\n|---|---|")?;
    writeln!(md, "| p50 | {:.0} ms |", r.latency_p50_ms)?;
    writeln!(md, "| p99 | {:.0} ms |", r.latency_p99_ms)?;
    writeln!(md, "| emulator time in one report's requests (sum over all of them) | {:.0} ms |", emulator_share)?;
    for (k, ms) in &r.emulator_ms {
        writeln!(md, "| emulator: `{k}`, one at a time | {ms:.1} ms |")?;
    }
    writeln!(
        md,
        "\nThe emulator's share is the requests counted above times its own median time per request kind (kinds not probed are costed as `SendMessage`); the two parallel branches are both counted, so it over-states the critical path. The rest is the local pollers' hand-offs between queues and the functions' own work.\n"
    )?;
    Ok(())
}

fn workflow_section(
    md: &mut String,
    w: &workflow_cost::WorkflowFigures,
    emulator_ms: &std::collections::BTreeMap<String, f64>,
) -> anyhow::Result<()> {
    writeln!(
        md,
        "## {}: AWS requests, cost and latency per {}
",
        w.name, w.unit
    )?;
    writeln!(
        md,
        "{} runs of {} at once, after one to warm every function. Per {}: {}. Requests counted as for reports (the functions' through the local stack's AWS proxy, the event-source mapping's as `ESM:`); `{}` counts the harness's own calls to the HTTP API, which the proxy cannot see.\n",
        w.runs, w.per_run, w.unit, w.how, workflow_cost::API_REQUESTS
    )?;
    writeln!(md, "| request | per {} |\n|---|---|", w.unit)?;
    for (k, n) in &w.per_workflow {
        writeln!(md, "| `{k}` | {n:.2} |")?;
    }
    let c = cost::per_thousand(&w.per_workflow, w.items_per_transaction);
    writeln!(md, "\nAt list prices (as for reports; API Gateway HTTP API $1.00 per million, SES $0.10 per 1,000 emails, IoT Core $1.00 per million messages):\n")?;
    writeln!(md, "| per 1,000 {}s | cost |\n|---|---|", w.unit)?;
    for (name, v) in [
        ("SQS", c.sqs),
        ("SNS", c.sns),
        ("DynamoDB", c.dynamodb),
        ("Lambda", c.lambda),
        ("API Gateway, SES, IoT", c.other),
    ] {
        writeln!(md, "| {name} | ${v:.5} |")?;
    }
    writeln!(md, "| **total** | **${:.4}** |\n", c.total())?;
    let fallback = emulator_ms.get("SQS.SendMessage").copied().unwrap_or(0.0);
    let emulator_share: f64 = w
        .per_workflow
        .iter()
        .filter(|(k, _)| !k.starts_with("ESM:SQS.ReceiveMessage") && k.as_str() != workflow_cost::API_REQUESTS)
        .map(|(k, n)| n * emulator_ms.get(k.trim_start_matches("ESM:")).copied().unwrap_or(fallback))
        .sum();
    writeln!(md, "Latency of each automated leg, from the timestamps the functions store, under the bursts above:\n")?;
    writeln!(md, "| leg | p50 | p99 | samples |\n|---|---|---|---|")?;
    for leg in &w.legs {
        writeln!(md, "| {} | {:.0} ms | {:.0} ms | {} |", leg.name, leg.p50_ms, leg.p99_ms, leg.samples)?;
    }
    writeln!(
        md,
        "\nThe emulator's share: about {emulator_share:.0} ms of one {}'s requests (counted above, at the emulator's own median time per request kind measured for reports; kinds not probed are costed as `SendMessage`). Under a burst the legs also wait for the emulator's DynamoDB lock behind the other workflows' calls, so they are upper bounds of what AWS would show. {}\n",
        w.unit, w.note
    )?;
    Ok(())
}

/// The sections other runs write into the page, by marker name (the contacts load
/// test's are `integration_tests::contacts_load::SECTION_BEGIN` / `SECTION_END`).
const KEPT_SECTIONS: [&str; 2] = ["init-profile", "contacts-load"];

/// The section `<!-- NAME: begin … -->` … `<!-- NAME: end -->` of a previous page.
fn kept_section<'a>(page: &'a str, name: &str) -> Option<&'a str> {
    let begin_marker = format!("<!-- {name}: begin");
    let end_marker = format!("<!-- {name}: end -->");
    let begin = page.find(&begin_marker)?;
    let end = page[begin..].find(&end_marker)? + begin + end_marker.len();
    Some(&page[begin..end])
}

#[cfg(test)]
mod kept_section_tests {
    #[test]
    fn the_contacts_load_section_is_found_whole() {
        let page = "# B\n<!-- contacts-load: begin (x) -->\n## Load\n<!-- contacts-load: end -->\n## After\n";
        assert_eq!(
            super::kept_section(page, "contacts-load"),
            Some("<!-- contacts-load: begin (x) -->\n## Load\n<!-- contacts-load: end -->")
        );
        assert_eq!(super::kept_section(page, "init-profile"), None);
        assert_eq!(super::kept_section("# B\n", "contacts-load"), None);
    }
}
