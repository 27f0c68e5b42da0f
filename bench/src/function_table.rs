//! docs/benchmarks.md's per-function tables (the first-time path with sizes and
//! memory, the redelivery path, the arm64 sizes) and their baseline figures.

use std::fmt::Write as _;

use crate::baseline::{self, Figures};
use crate::functions::{FunctionFigures, Pass};
use crate::sizes::Size;
use crate::stats::median;

/// Zip size Lambda should stay under (cold starts grow with it).
pub const ZIP_TARGET_BYTES: f64 = 4e6;
/// Peak memory a function should stay under: a third of Lambda's 128 MB.
const RSS_TARGET_MB: f64 = 40.0;

pub fn ms(v: f64) -> String {
    if v.is_nan() {
        "-".into()
    } else if v < 1.0 {
        format!("{v:.2} ms")
    } else {
        format!("{v:.1} ms")
    }
}

fn mb(bytes: f64) -> String {
    format!("{:.2} MB", bytes / 1e6)
}

/// "batch 1 · batch 10" of one measure.
fn pair(passes: &[Pass], value: impl Fn(&Pass) -> f64) -> String {
    let at = |k: usize| passes.iter().find(|p| p.records == k).map_or_else(|| "-".to_owned(), |p| ms(value(p)));
    format!("{} · {}", at(1), at(10))
}

/// What the passes did against what they were meant to: "✅ 10/10 · 100/100 done".
fn checked(passes: &[Pass], redelivery: bool) -> String {
    if passes.is_empty() {
        return "-".into();
    }
    let ok = passes.iter().all(|p| {
        let expected = p.records * p.invocations;
        let got = if redelivery { p.tally.duplicate } else { p.tally.done };
        got == expected && p.tally.failed == 0
    });
    let what = if redelivery { "duplicate" } else { "done" };
    let counts: Vec<String> = passes
        .iter()
        .map(|p| {
            let got = if redelivery { p.tally.duplicate } else { p.tally.done };
            let mut s = format!("{got}/{}", p.records * p.invocations);
            if p.tally.failed > 0 {
                write!(s, " ({} failed)", p.tally.failed).ok();
            }
            s
        })
        .collect();
    format!("{} {} {what}", if ok { "✅" } else { "⚠️" }, counts.join(" · "))
}

pub fn init_median(f: &FunctionFigures) -> f64 {
    if f.init_ms.is_empty() {
        return f64::NAN;
    }
    median(&mut f.init_ms.clone())
}

pub fn section(
    md: &mut String,
    figures: &[FunctionFigures],
    sizes: &[Size],
    invocations: usize,
    restarts: usize,
) -> anyhow::Result<()> {
    writeln!(md, "## Every function on its own\n")?;
    writeln!(
        md,
        "Each function's release binary runs under the local Lambda service, invoked through the Invoke API (event sources and schedules off). \
         Its scenario (`bench/src/scenario/`) seeds what the **first-time (success) path** needs through the domain crates' own stores and use cases \
         (login events recorded, reports marked or ticketed, approval requests created or decided, contacts cached or completed, recordings put in S3) \
         and gives every invocation new ids, so each record does real work; the *checked* column counts what the records actually did \
         (SQS steps: the kit's `record handled` log line per record; APIs: 201 against a replayed 200; scheduled functions: the count in their answer, against what was seeded). \
         Scans and sweeps are measured first, on state only they seeded.\n"
    )?;
    writeln!(
        md,
        "- **cold init**: process start (the instant before `execve`, as Lambda's Init Duration counts it: docs/local-stack.md) → first Runtime API poll, median of {restarts} fresh processes (each SIGKILLed and restarted by the local service, one function at a time).\n\
         - **wall / record**: median over {invocations} invocations of the invocation's time divided by its records (batches of 1 · 10 for SQS steps, log deliveries and scheduled runs; one request for APIs), \
         including the local service and the emulator; seeding is not timed.\n\
         - **CPU / record**: the function process's own CPU (all its threads, from the scheduler's ns counters), median over the same invocations.\n\
         - **peak RSS**: the process's high-water mark after all its invocations, target < 40 MB. **binary / zip**: the host (x86_64) release build; zip at deflate -9, target ≤ 4 MB.\n"
    )?;
    writeln!(md, "| function | path measured | cold init | wall / record, 1 · 10 | CPU / record, 1 · 10 | first-time work, checked | peak RSS | binary | zip |")?;
    writeln!(md, "|---|---|---|---|---|---|---|---|---|")?;
    for f in figures {
        let size = sizes.iter().find(|s| s.function == f.function);
        let zip = size.and_then(|s| s.zip_bytes).map_or_else(
            || "-".to_owned(),
            |z| format!("{} {}", mb(z as f64), crate::mark(z as f64 <= ZIP_TARGET_BYTES)),
        );
        writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            f.function,
            f.path.replace('|', "\\|"),
            ms(init_median(f)),
            pair(&f.first, |p| p.wall_ms),
            pair(&f.first, |p| p.cpu_ms),
            checked(&f.first, false),
            f.peak_rss_kib.map_or_else(
                || "-".to_owned(),
                |k| format!("{:.1} MB {}", k as f64 / 1024.0, crate::mark(k as f64 / 1024.0 < RSS_TARGET_MB))
            ),
            size.map_or_else(|| "-".to_owned(), |s| mb(s.binary_bytes as f64)),
            zip,
        )?;
    }
    writeln!(md, "\n### The same events again (redelivery)\n")?;
    writeln!(md, "Each first-time event delivered a second time (SQS records with `ApproximateReceiveCount` 2, the same log delivery, the same POST): the duplicate path a step meets under at-least-once delivery. Same medians as above.\n")?;
    writeln!(md, "| function | wall / record, 1 · 10 | CPU / record, 1 · 10 | checked |\n|---|---|---|---|")?;
    for f in figures.iter().filter(|f| !f.redelivery.is_empty()) {
        writeln!(
            md,
            "| {} | {} | {} | {} |",
            f.function,
            pair(&f.redelivery, |p| p.wall_ms),
            pair(&f.redelivery, |p| p.cpu_ms),
            checked(&f.redelivery, true)
        )?;
    }
    let others: Vec<&str> = figures.iter().filter(|f| f.redelivery.is_empty()).map(|f| f.function.as_str()).collect();
    writeln!(
        md,
        "\nNot redelivered (a scheduled run or a read has no duplicate path of its own): {}.\n",
        others.join(", ")
    )?;
    Ok(())
}

pub fn arm64_section(md: &mut String, arm: &[&Size]) -> anyhow::Result<()> {
    writeln!(md, "## Binaries for Lambda (release profile: opt-level s, fat LTO, 1 codegen unit, stripped)\n")?;
    writeln!(md, "The table above gives the host (x86_64) build the local stack runs. Lambda runs the arm64 build (`make arm64`, cross-compiled with `gcc-aarch64-linux-gnu`):\n")?;
    if arm.is_empty() {
        writeln!(md, "arm64 not measured this run: no cross build (`make arm64` says what to install).\n")?;
        return Ok(());
    }
    writeln!(md, "| function | binary | zip (deflate -9) | target |\n|---|---|---|---|")?;
    for s in arm {
        let zip = s.zip_bytes.map_or_else(|| "n/a".to_owned(), |z| mb(z as f64));
        let ok = s.zip_bytes.is_some_and(|z| z as f64 <= ZIP_TARGET_BYTES);
        writeln!(md, "| {} | {} | {zip} | ≤ 4 MB {} |", s.function, mb(s.binary_bytes as f64), crate::mark(ok))?;
    }
    writeln!(md)?;
    Ok(())
}

/// A function's figures under their baseline keys (`host`: the x86_64 sizes).
pub fn baseline_figures(current: &mut Figures, f: &FunctionFigures, host: &[Size]) {
    let [init, wall1, wall10, cpu1, cpu10, rss, zip] = baseline::FUNCTION_METRICS;
    let mut put = |metric: &str, v: f64| {
        if v.is_finite() {
            current.insert(baseline::function_key(&f.function, metric), v);
        }
    };
    put(init, init_median(f));
    for p in &f.first {
        let (wall, cpu) = if p.records == 1 { (wall1, cpu1) } else { (wall10, cpu10) };
        put(wall, p.wall_ms);
        put(cpu, p.cpu_ms);
    }
    if let Some(kib) = f.peak_rss_kib {
        put(rss, kib as f64 / 1024.0);
    }
    if let Some(bytes) = host.iter().find(|s| s.function == f.function).and_then(|s| s.zip_bytes) {
        put(zip, bytes as f64 / 1e6);
    }
}
