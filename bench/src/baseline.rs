//! The previous release's figures, kept in `bench/baseline.json`, beside this run's:
//! a regression shows as a ratio. `--save-baseline` makes this run the baseline.
//!
//! One flat map, so an old baseline still loads after figures are added: a
//! function's figures are keyed `fn <function>: <metric>`, the rest by name.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

pub type Figures = BTreeMap<String, f64>;

/// The per-function metrics, in table order; ratios over 1 are worse for all of them.
pub const FUNCTION_METRICS: [&str; 7] = [
    "cold init (ms)",
    "wall/record 1 (ms)",
    "wall/record 10 (ms)",
    "CPU/record 1 (ms)",
    "CPU/record 10 (ms)",
    "peak RSS (MB)",
    "zip (MB)",
];

const FUNCTION_PREFIX: &str = "fn ";
/// When the figures were measured (Unix seconds); not a figure, never compared.
pub const WRITTEN_AT: &str = "_written (unix s)";

pub fn function_key(function: &str, metric: &str) -> String {
    format!("{FUNCTION_PREFIX}{function}: {metric}")
}

pub fn load(path: &Path) -> Figures {
    std::fs::read_to_string(path).ok().and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default()
}

/// Written with 4 decimals: finer digits are noise, and they make the file's diffs unreadable.
pub fn save(path: &Path, figures: &Figures) -> anyhow::Result<()> {
    let rounded: Figures = figures.iter().map(|(k, v)| (k.clone(), (v * 1e4).round() / 1e4)).collect();
    std::fs::write(path, serde_json::to_string_pretty(&rounded)? + "\n")?;
    Ok(())
}

fn ratio(now: f64, base: Option<&f64>) -> Option<f64> {
    base.filter(|b| **b != 0.0 && b.is_finite()).map(|b| now / b)
}

/// "now (×ratio)", the ratio in bold past 1.25.
fn cell(now: f64, base: Option<&f64>) -> String {
    let now_text = if now.abs() < 1.0 { format!("{now:.3}") } else { format!("{now:.1}") };
    match ratio(now, base) {
        Some(r) if r > 1.25 => format!("{now_text} (**×{r:.2}**)"),
        Some(r) => format!("{now_text} (×{r:.2})"),
        None => format!("{now_text} (new)"),
    }
}

pub fn section(md: &mut String, current: &Figures, baseline: &Figures) -> anyhow::Result<()> {
    writeln!(md, "## Against the baseline\n")?;
    if baseline.is_empty() {
        writeln!(
            md,
            "No baseline yet (`bench/baseline.json`): `make bench BENCH_ARGS=--save-baseline` at a release.\n"
        )?;
        return Ok(());
    }
    writeln!(
        md,
        "`bench/baseline.json` holds the previous release's figures{}; each cell is this run's figure and its ratio to the baseline's. \
         Ratios over 1.25 are in bold (over 1 is worse everywhere except throughput). On this shared 2-core machine one function's \
         wall and CPU figures have moved by up to ×2 between back-to-back runs (a burst of someone else's work is enough), so a bold ratio \
         is a reason to re-run, not a verdict; sizes and peak RSS are steady, and CPU figures under 0.1 ms are within the noise.\n",
        baseline
            .get(WRITTEN_AT)
            .and_then(|t| chrono::DateTime::from_timestamp(*t as i64, 0))
            .map(|t| format!(" (measured {} UTC)", t.format("%Y-%m-%d %H:%M")))
            .unwrap_or_default()
    )?;
    writeln!(md, "| figure | baseline | now | ratio |\n|---|---|---|---|")?;
    for (k, now) in current.iter().filter(|(k, _)| !k.starts_with(FUNCTION_PREFIX) && !k.starts_with('_')) {
        match ratio(*now, baseline.get(k)) {
            Some(r) => writeln!(md, "| {k} | {:.4} | {now:.4} | {r:.2} |", baseline[k])?,
            None => writeln!(md, "| {k} | - | {now:.4} | new |")?,
        }
    }
    let mut functions: Vec<&str> = current
        .keys()
        .filter_map(|k| k.strip_prefix(FUNCTION_PREFIX).and_then(|rest| rest.split_once(": ")).map(|(f, _)| f))
        .collect();
    functions.dedup();
    writeln!(md, "\n| function | {} |", FUNCTION_METRICS.join(" | "))?;
    writeln!(md, "|---|{}", "---|".repeat(FUNCTION_METRICS.len()))?;
    for f in functions {
        let cells: Vec<String> = FUNCTION_METRICS
            .iter()
            .map(|m| {
                let key = function_key(f, m);
                current.get(&key).map_or_else(|| "-".to_owned(), |now| cell(*now, baseline.get(&key)))
            })
            .collect();
        writeln!(md, "| {f} | {} |", cells.join(" | "))?;
    }
    writeln!(md)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_function_row_shows_each_figure_against_its_baseline() {
        let mut base = Figures::new();
        base.insert(function_key("f", "cold init (ms)"), 20.0);
        let mut now = Figures::new();
        now.insert(function_key("f", "cold init (ms)"), 30.0);
        now.insert(function_key("f", "zip (MB)"), 3.0);
        now.insert("kit CPU per record (µs)".into(), 8.0);
        let mut md = String::new();
        section(&mut md, &now, &base).unwrap();
        assert!(md.contains("| f | 30.0 (**×1.50**) | - | - | - | - | - | 3.0 (new) |"), "{md}");
        assert!(md.contains("| kit CPU per record (µs) | - | 8.0000 | new |"), "{md}");
    }
}
