//! `ops dlq redrive`: moves dead letters back to the queue they came from.
//!
//! Send first, delete second: a crash between the two leaves the message in both
//! queues — a duplicate, which the idempotent steps absorb — never in neither.
//! The copy is a new message, so it starts with a fresh receive count; the kit's
//! dead-letter attributes are stripped, the correlation id kept. We always move
//! messages ourselves (rather than `StartMessageMoveTask`): it works with a reason
//! filter, with a rate, and on the local emulator, which lacks that API.
//!
//! Done means accounted for: it long-polls, and an empty receive ends it only when
//! the DLQ's own counts hold nothing it has not seen (every message left is one it
//! kept: skipped by the filter, failed, or not deleted). Messages in flight
//! elsewhere (another consumer, an earlier interrupted redrive's hold) are waited
//! for a few long polls, then reported as remaining.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use anyhow::Context as _;
use aws_sdk_sqs::types::MessageAttributeValue;
use kit::queue::attr;

use super::KIT_ATTRIBUTES;
use crate::sqs::{depth, queue_url, receive_batch, release, Peeked};
use crate::stack::{QueueInfo, StackMap};

/// How long a received message stays ours while we decide and move it.
pub const DEFAULT_HOLD_SECS: i32 = 120;
/// Each receive waits this long for a message (a long poll).
pub const DEFAULT_WAIT_SECS: i32 = 5;
/// Empty long polls in a row, with messages still unaccounted for in the DLQ's
/// counts, before giving up on them (they are in flight elsewhere) and reporting them.
pub const EMPTY_POLLS: u32 = 3;

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
    /// Seconds each receive waits for a message (default 5; at most 20).
    pub wait_secs: Option<i32>,
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
    /// What the DLQ held when the redrive started (visible + in flight).
    pub found: u64,
    /// What it holds now that the redrive is done (visible + in flight), by its counts.
    pub remaining: u64,
}

impl RedriveReport {
    /// Messages the redrive saw and left in the DLQ.
    pub fn kept(&self) -> usize {
        self.skipped + self.failed + self.not_deleted
    }

    /// Messages left in the DLQ that this redrive never saw: in flight elsewhere,
    /// or arrived meanwhile (SQS's counts are approximate, so this can be off
    /// briefly).
    pub fn unseen(&self, dry_run: bool) -> u64 {
        let kept = if dry_run { self.kept() + self.moved } else { self.kept() };
        self.remaining.saturating_sub(kept as u64)
    }
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

/// What a FIFO target needs on every send, which a standard queue refuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FifoIds {
    /// The dead letter's own group (SQS keeps it when its redrive policy moves a
    /// message): the same order per group (per request, for approval decisions).
    pub group: String,
    /// The dead letter's message id: a repeated redrive of the same letter within
    /// SQS's five-minute window is dropped by SQS. Not the original deduplication id
    /// (e.g. the request id): a redrive within five minutes of the first send would
    /// then be silently dropped as a duplicate of the message that failed.
    pub deduplication: String,
}

/// The group and deduplication id of a copy of `m` sent to `target`; `None` for a
/// standard queue.
pub fn fifo_ids(target: &QueueInfo, m: &Peeked) -> Option<FifoIds> {
    if !target.is_fifo() {
        return None;
    }
    let group =
        m.system.get("MessageGroupId").filter(|g| !g.is_empty()).cloned().unwrap_or_else(|| "redrive".to_owned());
    Some(FifoIds { group, deduplication: m.message_id.clone() })
}

async fn send_copy(sqs: &aws_sdk_sqs::Client, target_url: &str, target: &QueueInfo, m: &Peeked) -> anyhow::Result<()> {
    let mut req = sqs
        .send_message()
        .queue_url(target_url)
        .message_body(&m.body)
        .set_message_attributes(Some(carried_attributes(m)?));
    if let Some(ids) = fifo_ids(target, m) {
        req = req.message_group_id(ids.group).message_deduplication_id(ids.deduplication);
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
    let (visible, in_flight) = depth(sqs, &dlq_url).await?;
    let mut report = RedriveReport {
        from: dlq.name.clone(),
        to: target.name.clone(),
        found: visible + in_flight,
        ..Default::default()
    };
    let interval = options.rate.filter(|r| *r > 0.0).map(|r| Duration::from_secs_f64(1.0 / r));
    let hold = options.hold_secs.unwrap_or(DEFAULT_HOLD_SECS);
    let wait = options.wait_secs.unwrap_or(DEFAULT_WAIT_SECS).clamp(0, 20);
    let mut seen: HashSet<String> = HashSet::new();
    // Messages received and left in the DLQ, by id (the latest receipt handle).
    let mut held: HashMap<String, Peeked> = HashMap::new();
    let mut empty_polls = 0;

    loop {
        let batch = receive_batch(sqs, &dlq_url, hold, wait).await?;
        let mut fresh = Vec::new();
        for m in batch {
            if seen.insert(m.message_id.clone()) {
                fresh.push(m);
            } else if let Some(kept) = held.get_mut(&m.message_id) {
                // A kept message whose hold ran out: keep its new handle to release it.
                *kept = m;
            }
        }
        if fresh.is_empty() {
            // Nothing new came: done once the DLQ's counts hold only what we kept.
            let (visible, in_flight) = depth(sqs, &dlq_url).await?;
            let unseen = (visible + in_flight).saturating_sub(held.len() as u64);
            empty_polls += 1;
            if unseen == 0 || empty_polls >= EMPTY_POLLS {
                break;
            }
            continue;
        }
        empty_polls = 0;
        for m in fresh {
            if !matches(&m, options.reason.as_deref()) {
                report.skipped += 1;
                held.insert(m.message_id.clone(), m);
            } else if options.dry_run {
                report.moved += 1;
                held.insert(m.message_id.clone(), m);
            } else {
                if let Some(wait) = interval {
                    tokio::time::sleep(wait).await;
                }
                match send_copy(sqs, &target_url, target, &m).await {
                    Err(e) => {
                        eprintln!("ops: could not redrive {}: {}", m.message_id, kit::error::chain(e.as_ref()));
                        report.failed += 1;
                        held.insert(m.message_id.clone(), m);
                    }
                    Ok(()) => {
                        report.moved += 1;
                        let deleted =
                            sqs.delete_message().queue_url(&dlq_url).receipt_handle(&m.receipt_handle).send().await;
                        if deleted.is_err() {
                            report.not_deleted += 1;
                            held.insert(m.message_id.clone(), m);
                        }
                    }
                }
            }
            progress(&report);
        }
    }
    // What stays is made visible again now rather than after the hold.
    let held: Vec<Peeked> = held.into_values().collect();
    if let Err(e) = release(sqs, &dlq_url, &held).await {
        // Not lost: they show again once their hold runs out.
        eprintln!(
            "ops: {} message(s) stay hidden until their hold ends: {}",
            held.len(),
            kit::error::chain(e.as_ref())
        );
    }
    let (visible, in_flight) = depth(sqs, &dlq_url).await?;
    report.remaining = visible + in_flight;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::stack::StackMap;

    fn map() -> StackMap {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../infra/template.yaml");
        StackMap::load(&path, "prod", "eu-west-2").unwrap()
    }

    /// A decision as SQS's redrive policy left it in the FIFO DLQ.
    fn dead_decision() -> Peeked {
        Peeked {
            message_id: "5fea7756-0ea4-451a-a703-a558b933e274".into(),
            receipt_handle: "rh".into(),
            body: r#"{"type":"approval.decision"}"#.into(),
            attributes: HashMap::from([("correlation_id".to_owned(), "c1".to_owned())]),
            system: HashMap::from([
                ("MessageGroupId".to_owned(), "req-1".to_owned()),
                ("MessageDeduplicationId".to_owned(), "req-1".to_owned()),
                ("ApproximateReceiveCount".to_owned(), "5".to_owned()),
            ]),
        }
    }

    #[test]
    fn the_fifo_decisions_dlq_redrives_to_its_fifo_queue_with_group_and_a_fresh_deduplication_id() {
        let map = map();
        let dlq = map.find_queue("approval-decisions-dlq").unwrap();
        assert_eq!(dlq.name, "prod-approval-decisions-dlq.fifo");
        let target = map.source_of(dlq).expect("the decisions queue redrives to it");
        assert_eq!(target.name, "prod-approval-decisions.fifo");
        let ids = fifo_ids(target, &dead_decision()).expect("a FIFO target needs both ids");
        assert_eq!(ids.group, "req-1", "the request's own group: its order is kept");
        assert_eq!(ids.deduplication, "5fea7756-0ea4-451a-a703-a558b933e274");
        assert_ne!(ids.deduplication, "req-1", "the original id would be dropped as a duplicate within 5 minutes");
    }

    #[test]
    fn a_standard_target_gets_no_fifo_ids_and_a_groupless_letter_still_gets_one() {
        let map = map();
        let standard = map.queues.values().find(|q| !q.is_fifo() && q.dlq.is_some()).unwrap();
        assert_eq!(fifo_ids(standard, &dead_decision()), None);
        let fifo = map.find_queue("prod-approval-decisions.fifo").unwrap();
        let mut letter = dead_decision();
        letter.system.clear();
        assert_eq!(fifo_ids(fifo, &letter).unwrap().group, "redrive");
    }

    #[test]
    fn the_copy_carries_the_producers_attributes_not_the_kits_verdict() {
        let mut letter = dead_decision();
        letter.attributes.insert(attr::REASON.to_owned(), "boom".to_owned());
        let carried = carried_attributes(&letter).unwrap();
        assert!(carried.contains_key("correlation_id"));
        assert!(!carried.contains_key(attr::REASON));
    }
}
