//! `ops dlq redrive`: moves dead letters back to the queue they came from.
//!
//! Send first, delete second: a crash between the two leaves the message in both
//! queues — a duplicate, which the idempotent steps absorb — never in neither.
//! The copy is a new message, so it starts with a fresh receive count; the kit's
//! dead-letter attributes are stripped, the correlation id kept. We always move
//! messages ourselves (rather than `StartMessageMoveTask`): it works with a reason
//! filter, with a rate, and on the local emulator, which lacks that API.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use anyhow::Context as _;
use aws_sdk_sqs::types::MessageAttributeValue;
use kit::queue::attr;

use super::KIT_ATTRIBUTES;
use crate::sqs::{queue_url, receive_up_to, release, Peeked};
use crate::stack::{QueueInfo, StackMap};

/// How long a received message stays ours while we decide and move it.
pub const DEFAULT_HOLD_SECS: i32 = 120;

#[derive(Debug, Clone, Default)]
pub struct RedriveOptions {
    /// Only messages whose `error_reason` or `error_kind` contains this text.
    pub reason: Option<String>,
    /// At most this many sends per second.
    pub rate: Option<f64>,
    pub dry_run: bool,
    /// Seconds a received message stays hidden while being moved: if `ops` dies, the
    /// DLQ shows it again after this long (default 120).
    pub hold_secs: Option<i32>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RedriveReport {
    pub from: String,
    pub to: String,
    /// Moved (or, in a dry run, would be moved).
    pub moved: usize,
    /// Did not match the filter: left in the DLQ.
    pub skipped: usize,
    /// Could not be sent: left in the DLQ.
    pub failed: usize,
    /// Sent but not deleted from the DLQ: will move again next time (a duplicate).
    pub not_deleted: usize,
}

fn matches(m: &Peeked, filter: Option<&str>) -> bool {
    let Some(text) = filter else { return true };
    [attr::REASON, attr::KIND].iter().any(|k| m.attr(k).is_some_and(|v| v.contains(text)))
}

/// The message attributes the copy carries: the producer's, not the kit's verdict.
fn carried_attributes(m: &Peeked) -> anyhow::Result<HashMap<String, MessageAttributeValue>> {
    let mut out = HashMap::new();
    for (k, v) in &m.attributes {
        if KIT_ATTRIBUTES.contains(&k.as_str()) {
            continue;
        }
        out.insert(k.clone(), MessageAttributeValue::builder().data_type("String").string_value(v).build()?);
    }
    Ok(out)
}

async fn send_copy(sqs: &aws_sdk_sqs::Client, target_url: &str, target: &QueueInfo, m: &Peeked) -> anyhow::Result<()> {
    let mut req = sqs
        .send_message()
        .queue_url(target_url)
        .message_body(&m.body)
        .set_message_attributes(Some(carried_attributes(m)?));
    if target.is_fifo() {
        // Same group keeps the order; the DLQ message id dedupes a repeated redrive
        // within SQS's five-minute window.
        let group = m.system.get("MessageGroupId").cloned().unwrap_or_else(|| "redrive".to_owned());
        req = req.message_group_id(group).message_deduplication_id(&m.message_id);
    }
    req.send().await.context("SendMessage")?;
    Ok(())
}

pub async fn redrive(
    sqs: &aws_sdk_sqs::Client,
    map: &StackMap,
    dlq: &QueueInfo,
    options: &RedriveOptions,
    mut progress: impl FnMut(&RedriveReport),
) -> anyhow::Result<RedriveReport> {
    let target = map
        .source_of(dlq)
        .with_context(|| format!("{} is no queue's DLQ in the template: nowhere to redrive to", dlq.name))?;
    let dlq_url = queue_url(sqs, &dlq.name).await?;
    let target_url = queue_url(sqs, &target.name).await?;
    let mut report = RedriveReport { from: dlq.name.clone(), to: target.name.clone(), ..Default::default() };
    let interval = options.rate.filter(|r| *r > 0.0).map(|r| Duration::from_secs_f64(1.0 / r));
    let mut seen: HashSet<String> = HashSet::new();
    let mut held: Vec<Peeked> = Vec::new();

    loop {
        let batch = receive_up_to(sqs, &dlq_url, 10, options.hold_secs.unwrap_or(DEFAULT_HOLD_SECS)).await?;
        let fresh: Vec<Peeked> = batch.into_iter().filter(|m| seen.insert(m.message_id.clone())).collect();
        if fresh.is_empty() {
            // Empty, or only messages already skipped whose hold ran out.
            break;
        }
        for m in fresh {
            if !matches(&m, options.reason.as_deref()) {
                report.skipped += 1;
                held.push(m);
            } else if options.dry_run {
                report.moved += 1;
                held.push(m);
            } else {
                if let Some(wait) = interval {
                    tokio::time::sleep(wait).await;
                }
                match send_copy(sqs, &target_url, target, &m).await {
                    Err(e) => {
                        eprintln!("ops: could not redrive {}: {}", m.message_id, kit::error::chain(e.as_ref()));
                        report.failed += 1;
                        held.push(m);
                    }
                    Ok(()) => {
                        report.moved += 1;
                        let deleted =
                            sqs.delete_message().queue_url(&dlq_url).receipt_handle(&m.receipt_handle).send().await;
                        if deleted.is_err() {
                            report.not_deleted += 1;
                        }
                    }
                }
            }
            progress(&report);
        }
    }
    // What stays is made visible again now rather than after the hold.
    if let Err(e) = release(sqs, &dlq_url, &held).await {
        // Not lost: they show again once their hold runs out.
        eprintln!(
            "ops: {} message(s) stay hidden until their hold ends: {}",
            held.len(),
            kit::error::chain(e.as_ref())
        );
    }
    Ok(report)
}
