//! How `ops` shows things: tables for lists, a spinner for long moves.

use comfy_table::{presets::UTF8_FULL_CONDENSED, Table};

use crate::dlq::{DlqSummary, RedriveReport};
use crate::stack::QueueInfo;
use crate::workflow::Timeline;

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED).set_header(header.to_vec());
    t
}

fn age(d: Option<chrono::Duration>) -> String {
    match d {
        None => "-".to_owned(),
        Some(d) if d.num_hours() >= 48 => format!("{} d", d.num_days()),
        Some(d) if d.num_minutes() >= 120 => format!("{} h", d.num_hours()),
        Some(d) if d.num_seconds() >= 120 => format!("{} min", d.num_minutes()),
        Some(d) => format!("{} s", d.num_seconds().max(0)),
    }
}

pub fn dlq_list(list: &[DlqSummary]) {
    let mut t = table(&["DLQ", "source", "depth", "in flight", "oldest", "top reasons"]);
    for d in list {
        let reasons = d.top_kinds.iter().map(|(k, n)| format!("{k} ×{n}")).collect::<Vec<_>>().join(", ");
        t.add_row(vec![
            d.name.clone(),
            d.source.clone().unwrap_or_else(|| "-".to_owned()),
            d.visible.to_string(),
            d.in_flight.to_string(),
            age(d.oldest),
            reasons,
        ]);
    }
    println!("{t}");
}

pub fn letters(q: &QueueInfo, letters: &[crate::dlq::show::Letter]) {
    println!("{} — {} message(s) shown (bodies withheld: they may hold personal data)", q.name, letters.len());
    let mut t = table(&["message id", "step", "kind", "reason", "first seen", "receives", "correlation id"]);
    for l in letters {
        t.add_row(vec![
            l.message_id.clone(),
            l.step.clone(),
            l.kind.clone(),
            l.reason.clone(),
            l.first_seen.clone(),
            l.receive_count.clone(),
            l.correlation_id.clone(),
        ]);
    }
    println!("{t}");
}

pub fn progress(what: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_prefix(what.to_owned());
    if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {prefix}: {msg}") {
        bar.set_style(style);
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

pub fn redrive(r: &RedriveReport, dry_run: bool) {
    let verb = if dry_run { "would move" } else { "moved" };
    println!(
        "{} → {}: {verb} {}, skipped {} (filter), failed {}{}",
        r.from,
        r.to,
        r.moved,
        r.skipped,
        r.failed,
        if r.not_deleted > 0 {
            format!(", {} sent but not deleted (will be redriven again: a duplicate the steps absorb)", r.not_deleted)
        } else {
            String::new()
        }
    );
}

pub fn timeline(t: &Timeline) {
    println!("{} {} — {}", t.system, t.id, t.status);
    let mut table = table(&["when", "step", "detail"]);
    for p in &t.points {
        table.add_row(vec![
            p.at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            p.step.clone(),
            p.detail.clone(),
        ]);
    }
    println!("{table}");
    match &t.waiting_for {
        Some(w) => println!("waiting for: {w}"),
        None => println!("finished"),
    }
}

pub fn stuck(system: &str, list: &[Timeline]) {
    if list.is_empty() {
        println!("{system}: nothing stuck");
        return;
    }
    let mut t = table(&["system", "id", "status", "since", "waiting for"]);
    for w in list {
        let since =
            w.points.get(1).map(|p| p.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)).unwrap_or_default();
        t.add_row(vec![
            system.to_owned(),
            w.id.clone(),
            w.status.clone(),
            since,
            w.waiting_for.clone().unwrap_or_default(),
        ]);
    }
    println!("{t}");
}
