//! `make chaos`: the full chaos suite; writes docs/reliability.md, prints a one-line
//! summary, exits non-zero on any loss, duplicate side effect or leak.

use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use integration_tests::chaos::{run, ChaosConfig};

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

#[tokio::main]
async fn main() -> ExitCode {
    let mut config = ChaosConfig::short();
    config.workflows = arg("--workflows").and_then(|v| v.parse().ok()).unwrap_or(1000);
    config.kills = arg("--kills").and_then(|v| v.parse().ok()).unwrap_or(5);
    config.refused = arg("--refused").and_then(|v| v.parse().ok()).unwrap_or(10);
    config.deadline = Duration::from_secs(arg("--deadline-secs").and_then(|v| v.parse().ok()).unwrap_or(3600));
    if let Some(dir) = arg("--bin-dir") {
        config.bin_dir = dir.into();
    }
    let out = arg("--out").unwrap_or_else(|| "docs/reliability.md".to_owned());
    let outcome = match run(config.clone()).await {
        Ok(o) => o,
        Err(e) => {
            eprintln!("chaos: could not run: {e:#}");
            return ExitCode::from(2);
        }
    };
    println!("{}", outcome.summary());
    let mut md = String::new();
    let _ = writeln!(md, "# Reliability: the chaos suite\n");
    let _ = writeln!(
        md,
        "Written by `make chaos` on {} UTC. {} report workflows, each message delivered {} times; Zendesk and Notify failing {:.0}% of requests (500s, 429s with `Retry-After`, slow answers); the local runner killed outright {} times at random moments (every function process SIGKILLed mid-batch, every poller dropped with messages in flight) and started again; {} reports refused by a Zendesk outage (403), then redriven with `ops dlq redrive --reason 403`; one poison message of each kind.\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M"),
        outcome.workflows,
        config.copies,
        config.error_rate * 100.0,
        outcome.kills,
        config.refused,
    );
    let _ = writeln!(md, "```\n{}\n```\n", outcome.summary());
    let _ = writeln!(md, "| measure | value |\n|---|---|");
    for (k, v) in [
        ("workflows completed", format!("{} of {}", outcome.completed, outcome.workflows)),
        ("lost", outcome.lost.to_string()),
        (
            "Zendesk tickets (distinct reports)",
            format!("{} ({} duplicate)", outcome.tickets, outcome.duplicate_tickets),
        ),
        (
            "TxMA events (distinct ids)",
            format!("{} ({} duplicate)", outcome.txma_events, outcome.duplicate_txma_events),
        ),
        ("TxMA deliveries of an already-sent event id", outcome.txma_redeliveries.to_string()),
        ("emails (distinct references)", format!("{} ({} duplicate)", outcome.emails, outcome.duplicate_emails)),
        ("dead letters redriven and completed", outcome.redriven.to_string()),
        ("log lines scanned / leaks", format!("{} / {}", outcome.log_lines, outcome.log_leaks.len())),
        ("elapsed", format!("{:.0} s", outcome.elapsed.as_secs_f64())),
    ] {
        let _ = writeln!(md, "| {k} | {v} |");
    }
    let _ = writeln!(md, "\nPoison messages, by the reason they were dead-lettered with (each after one receive):\n");
    for (kind, n) in &outcome.poison {
        let _ = writeln!(md, "* `{kind}` × {n}");
    }
    let _ = writeln!(
        md,
        "\n## How to read it\n\n* **TxMA redeliveries** are the same event (same `event_id`) sent again after a kill landed between the send and its record; TxMA dedupes on `event_id`, so they are not duplicate events.\n* **Duplicate emails** can only come from Notify accepting an email whose lookup by `reference` then misses it; with the fake's consistent listing there are none, and the count stays in the summary so a regression shows.\n* A report naming another user's event is not poison: it is REJECTED with the reason (see the report pipeline tests).\n\nThe short version (50 workflows, one kill) runs in `make test` (`tests/tests/chaos_short.rs`).\n"
    );
    if let Err(e) = std::fs::write(&out, md) {
        eprintln!("chaos: could not write {out}: {e}");
    }
    if outcome.ok() {
        ExitCode::SUCCESS
    } else {
        for leak in outcome.log_leaks.iter().take(5) {
            eprintln!("leak: {leak}");
        }
        ExitCode::FAILURE
    }
}
