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

/// A bar of `len` steps: done, rate, time left.
pub fn bar(len: u64, what: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(len);
    bar.set_prefix(what.to_owned());
    if let Ok(style) = indicatif::ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} · {per_sec} · {eta}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// One workflow's redrive: sent, planned (dry run), or why nothing was sent.
pub fn redriven(o: &crate::redrive::Outcome, map: &crate::stack::StackMap, dry_run: bool) {
    use stuck::redrive::Plan;
    match &o.plan {
        Plan::NotStuck(why) => println!("{} {}: not stuck ({why}); nothing changed", o.kind, o.id),
        Plan::Cannot(why) => println!("{} {}: stuck, but cannot be redriven: {why}", o.kind, o.id),
        Plan::Send { finding, messages } => {
            println!(
                "{} {}: {} since {} — stopped before {}",
                o.kind,
                o.id,
                finding.state.describe(),
                finding.since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                finding.waiting_for
            );
            for m in messages {
                let queue = map.queues.get(m.queue).map(|q| q.name.as_str()).unwrap_or(m.queue);
                let verb = if dry_run { "would send" } else { "sent" };
                println!(
                    "  {verb} {} to {queue} (step {}), correlation id {}",
                    m.message_type, m.step, m.correlation_id
                );
                if dry_run {
                    // Bodies may hold an address: redacted, as everywhere in ops.
                    println!("    {}", crate::redact::redact(&m.body));
                }
            }
            if o.sent {
                println!("  recorded on the item (see `ops workflow {}`)", o.id);
            }
        }
    }
}

/// `ops stuck --redrive`'s summary.
pub fn redrives(outcomes: &[crate::redrive::Outcome], failed: usize) {
    let mut t = table(&["kind", "id", "result"]);
    for o in outcomes {
        use stuck::redrive::Plan;
        let result = match &o.plan {
            Plan::Send { messages, .. } => {
                format!("sent to {}", messages.iter().map(|m| m.step).collect::<Vec<_>>().join(" + "))
            }
            Plan::NotStuck(why) => format!("not stuck any more: {why}"),
            Plan::Cannot(why) => format!("cannot: {why}"),
        };
        t.add_row(vec![o.kind.to_string(), o.id.clone(), result]);
    }
    println!("{t}");
    println!("redriven: {} · failed: {failed}", outcomes.iter().filter(|o| o.sent).count());
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
        "{} → {}: found {}, {verb} {}, skipped {} (filter), failed {}{}",
        r.from,
        r.to,
        r.found,
        r.moved,
        r.skipped,
        r.failed,
        if r.not_deleted > 0 {
            format!(", {} sent but not deleted (will be redriven again: a duplicate the steps absorb)", r.not_deleted)
        } else {
            String::new()
        }
    );
    let unseen = r.unseen(dry_run);
    if r.remaining == 0 {
        println!("{} is empty", r.from);
    } else {
        println!(
            "{} still holds {} message(s): {} left by this redrive{}",
            r.from,
            r.remaining,
            r.remaining - unseen,
            if unseen > 0 {
                format!(", {unseen} it never saw (in flight elsewhere, or arrived meanwhile: run it again)")
            } else {
                String::new()
            }
        );
    }
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

pub fn stuck(check: &stuck::Check, now: chrono::DateTime<chrono::Utc>) {
    for (kind, found) in &check.findings {
        if found.is_empty() {
            println!("{kind}: nothing stuck");
            continue;
        }
        println!("{kind}: {} stuck", found.len());
        let mut t = table(&["id", "state", "since", "limit", "overdue by", "waiting for"]);
        for f in found {
            t.add_row(vec![
                f.id.clone(),
                f.state.describe().to_owned(),
                f.since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                age(Some(f.limit)),
                age(Some(f.overdue(now))),
                f.waiting_for.clone(),
            ]);
        }
        println!("{t}");
    }
    for e in &check.failed {
        eprintln!("ops: {}: could not check: {}", e.kind, kit::error::chain(e));
    }
}
