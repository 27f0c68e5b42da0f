//! `make contacts-load`: the recording detector under load (2,000 calls in progress,
//! the Connect fake enforcing DescribeContact's quota); writes its section of
//! docs/benchmarks.md, prints a one-line summary, exits non-zero if anything was
//! dead-lettered or a completed call waited more than two sweeps for its check.

use std::process::ExitCode;
use std::time::Duration;

use integration_tests::contacts_load::{markdown, replace_section, run, LoadConfig};

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

fn num<T: std::str::FromStr>(name: &str, default: T) -> T {
    arg(name).and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[tokio::main]
async fn main() -> ExitCode {
    let full = LoadConfig::full();
    let config = LoadConfig {
        calls: num("--calls", full.calls),
        ending: num("--ending", full.ending),
        ending_over: Duration::from_secs(num("--ending-over-secs", full.ending_over.as_secs())),
        quota_rps: num("--rps", full.quota_rps),
        quota_burst: num("--burst", full.quota_burst),
        sweep_every: Duration::from_secs(num("--sweep-secs", full.sweep_every.as_secs())),
        deadline: Duration::from_secs(num("--deadline-secs", full.deadline.as_secs())),
        bin_dir: arg("--bin-dir").map(Into::into).unwrap_or(full.bin_dir),
    };
    let out = arg("--out").unwrap_or_else(|| "docs/benchmarks.md".to_owned());
    let outcome = match run(config.clone()).await {
        Ok(o) => o,
        Err(e) => {
            eprintln!("contacts load: could not run: {e:#}");
            return ExitCode::from(2);
        }
    };
    println!("{}", outcome.summary());
    let section = markdown(&config, &outcome);
    let text = std::fs::read_to_string(&out).unwrap_or_else(|_| "# Benchmarks\n".to_owned());
    if let Err(e) = std::fs::write(&out, replace_section(&text, &section)) {
        eprintln!("contacts load: could not write {out}: {e}");
        return ExitCode::from(2);
    }
    eprintln!("contacts load: wrote its section of {out}");
    if outcome.ok(&config) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
