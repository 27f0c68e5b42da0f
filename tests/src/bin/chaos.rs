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
    // A proportional mix of the other systems: a tenth as many of each.
    config.audits = arg("--audits").and_then(|v| v.parse().ok()).unwrap_or(config.workflows / 10);
    config.approvals = arg("--approvals").and_then(|v| v.parse().ok()).unwrap_or(config.workflows / 10);
    config.contacts = arg("--contacts").and_then(|v| v.parse().ok()).unwrap_or(config.workflows / 10);
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
        "Written by `make chaos` on {} UTC. {} report workflows, each message delivered {} times; Zendesk and Notify failing {:.0}% of requests (500s, 429s with `Retry-After`, slow answers); the local runner killed outright {} times at random moments (every function process SIGKILLed mid-batch, every poller dropped with messages in flight) and started again; {} reports refused by a Zendesk outage (403), then redriven with `ops dlq redrive --reason 403`; one poison message of each kind; and on top, provider outages: {}. Everything ran on the template's shipped configuration: the retry policy's {} receives over at least {} h, waits from {} s doubling to a {}-minute cap, with only those waits compressed {}× by the test time scale (`RETRY_TIME_SCALE`; nothing else about retries, receive counts or timeouts changed). Beside them, {} audited workflows (created, requested and approved through the workflow API, every event delivered {} times to both step queues) and {} action approval requests ({} approvers each answering at once, the decisions flowing through the kills) and {} calls on the Connect fake (a third recorded, a third never recorded, a third abandoned; their flow logs delivered {} times; the sweep fired before every kill).\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M"),
        outcome.workflows,
        config.copies,
        config.error_rate * 100.0,
        outcome.kills,
        config.refused,
        outcome.outages,
        kit::retry::STANDARD.max_receive_count(),
        kit::retry::STANDARD.budget.as_secs() / 3600,
        kit::retry::STANDARD.backoff.base.as_secs(),
        kit::retry::STANDARD.backoff.max.as_secs() / 60,
        integration_tests::TIME_SCALE,
        config.audits,
        config.copies,
        config.approvals,
        3,
        config.contacts,
        config.copies,
    );
    let _ = writeln!(md, "```\n{}\n```\n", outcome.summary());
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZeroUsize::get);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    let _ = writeln!(
        md,
        "Machine: {cores} cores, load average at the end {} (1, 5, 15 min; other builds share this machine). The emulator (moto, one process) peaked at {} MiB resident.\n",
        load.join(" / "),
        outcome.emulator_peak_mib.map_or_else(|| "?".to_owned(), |m| m.to_string()),
    );
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
        ("dead letters from a retry budget running out (the outages)", outcome.outage_dead_letters.to_string()),
        (
            "Zendesk 429s followed by a retry of the same report, timed",
            format!(
                "{} ({} sooner than `Retry-After`; shortest gap {} ms against {} ms required)",
                outcome.retry_after.checked,
                outcome.retry_after.violations.len(),
                outcome.retry_after.shortest_gap_ms.map_or_else(|| "-".to_owned(), |g| g.0.to_string()),
                outcome.retry_after.shortest_gap_ms.map_or_else(|| "-".to_owned(), |g| g.1.to_string()),
            ),
        ),
        ("dead letters redriven and completed", outcome.redriven.to_string()),
        ("audited workflows complete", format!("{} of {}", outcome.audit.completed, outcome.audit.workflows)),
        (
            "audit records (one per accepted action)",
            format!("{} ({} duplicate)", outcome.audit.records, outcome.audit.duplicate_records),
        ),
        (
            "workflow notifications (one per recipient and action)",
            format!("{} ({} duplicate)", outcome.audit.notifications, outcome.audit.duplicate_notifications),
        ),
        ("extra deliveries of workflow events", outcome.audit.redelivered.to_string()),
        (
            "approval requests complete (one decision, one FIFO message, the others told)",
            format!("{} of {}", outcome.approvals.completed, outcome.approvals.requests),
        ),
        ("approval requests decided twice", outcome.approvals.double_decisions.to_string()),
        (
            "FIFO decision messages",
            format!("{} ({} duplicate)", outcome.approvals.fifo_messages, outcome.approvals.duplicate_fifo_messages),
        ),
        (
            "decision notices to the other approvers",
            format!("{} ({} duplicate)", outcome.approvals.notices, outcome.approvals.duplicate_notices),
        ),
        (
            "calls ended as scripted (recorded found, unrecorded alerted, abandoned deleted)",
            format!("{} of {}", outcome.contacts.completed, outcome.contacts.contacts),
        ),
        (
            "recording-missing alerts",
            format!(
                "{} ({} duplicate, {} for a recorded or abandoned call)",
                outcome.contacts.alerts, outcome.contacts.duplicate_alerts, outcome.contacts.false_alerts
            ),
        ),
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
        "\n## How to read it\n\n* **TxMA redeliveries** are the same event (same `event_id`) sent again after a kill landed between the send and its record; TxMA dedupes on `event_id`, so they are not duplicate events.\n* **Duplicate emails** can only come from Notify accepting an email whose lookup by `reference` then misses it; with the fake's consistent listing there are none, and the verdict requires 0 (`ChaosOutcome::ok`; `tests/src/chaos.rs` has a test that a duplicate fails it).\n* **Outages.** While a provider is down every record waiting on it fails retryably and comes back on the policy's schedule (counted in `DependencyFailures` by dependency); none may reach a DLQ, because the 24-hour budget outlasts a 6-hour outage. A 429's `Retry-After` sets the least wait: the run times each rate-limited report's next request after a 429 from the Zendesk fake's request log.\n* **Duplicate notifications** cannot be stored: a notification's id is fixed by (workflow, record, recipient) and written once; the count checks it.\n* **Duplicate decision notices** would be an approver emailed twice about one decision: the notify step works under a claim on the request and marks each approver told right after their email, so only a kill (or an SES timeout) between SES accepting an email and that mark sends that one notice again; the count shows how often it happened.\n* **Wrong user.** A report naming another user's event is not poison: the message is well-formed and the refusal is the user's business, so the report is REJECTED with the reason, visible through the API, and nothing is marked, ticketed or emailed. The run sends one and checks exactly that (part of the poison verdict).\n\nThe short version (50 report workflows with 5 audited workflows, 3 approval requests and 6 calls beside them, one kill) runs in `make test` (`tests/tests/chaos_short.rs`). Re-run this one with `make chaos` (`WORKFLOWS=` and `KILLS=` override the size).\n"
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
