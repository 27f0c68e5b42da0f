//! The previous release's figures, kept in `bench/baseline.json`, beside this run's:
//! a regression shows as a ratio. `--save-baseline` makes this run the baseline.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

pub type Figures = BTreeMap<String, f64>;

pub fn load(path: &Path) -> Figures {
    std::fs::read_to_string(path).ok().and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default()
}

pub fn save(path: &Path, figures: &Figures) -> anyhow::Result<()> {
    std::fs::write(path, serde_json::to_string_pretty(figures)? + "\n")?;
    Ok(())
}

pub fn section(md: &mut String, current: &Figures, baseline: &Figures) -> anyhow::Result<()> {
    writeln!(md, "## Against the baseline\n")?;
    if baseline.is_empty() {
        writeln!(
            md,
            "No baseline yet (`bench/baseline.json`): run `make bench` with `--save-baseline` at a release.\n"
        )?;
        return Ok(());
    }
    writeln!(md, "`bench/baseline.json` holds the previous release's figures. Ratios over 1.25 (or under 0.8 for throughput) are worth a look; the machine is shared, so re-run before believing one.\n")?;
    writeln!(md, "| figure | baseline | now | ratio |\n|---|---|---|---|")?;
    for (k, now) in current {
        match baseline.get(k) {
            Some(base) if *base != 0.0 => writeln!(md, "| {k} | {base:.4} | {now:.4} | {:.2} |", now / base)?,
            _ => writeln!(md, "| {k} | - | {now:.4} | new |")?,
        }
    }
    writeln!(md)?;
    Ok(())
}
