//! recording-sweep: every five minutes, fan the contacts with work left out to the
//! steps that do it (the seed's state machine, as messages).
//!
//! Three independent parts, in this order: recording checks (cheap, and never held
//! up by polling), deletes of finished queue calls, then polls. One failing does not
//! stop the others; the sweep reports the first failure after trying all three.
//!
//! Polls are what Connect's DescribeContact quota limits, so the sweep sends one
//! only for a contact that has none out (a claim on the contact item, which the
//! poll ends), longest-unpolled first, and only as many as keep the messages out
//! (the claims held) within what poll-contact can serve at its configured rate
//! before the next sweep.
//! A backlog stays in the table, not as duplicates in the queue.

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde::Serialize;
use tracing::{info, warn};

use crate::contact::ContactId;
use crate::error::ContactError;
use crate::messages::{envelope, CheckRecording, PollContact};
use crate::ports::{PendingContacts, PollCandidate, WorkQueue};
use crate::state::ContactState;

/// Index page size: SQS batches are 10, deletes 25, BatchGetItem 100.
pub const SWEEP_PAGE: u32 = 100;
/// SendMessageBatch takes ten entries.
const SEND_BATCH: usize = 10;
/// Claims written at once.
const CLAIM_CONCURRENCY: usize = 8;

#[derive(Debug, Clone, PartialEq)]
pub struct SweepSettings {
    /// How many poll messages may be out at once (claims held: sent and not yet
    /// polled): what poll-contact serves at its DescribeContact rate in less than a
    /// sweep interval, so no message waits past the next sweep.
    pub poll_queue_cap: u64,
    /// How long a sent poll message holds its contact's claim if nothing ends it
    /// (the message was lost or dead-lettered): then the sweep sends another.
    pub poll_lease: Duration,
}

impl SweepSettings {
    /// Four minutes of DescribeContact calls at `rps` (a minute spare in a
    /// five-minute sweep interval).
    pub fn for_rate(rps: f64) -> Self {
        Self { poll_queue_cap: (rps * 240.0).ceil().max(1.0) as u64, poll_lease: Duration::from_secs(3600) }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SweepSummary {
    pub to_check: usize,
    pub deleted: usize,
    /// Poll messages sent.
    pub to_poll: usize,
    /// Contacts that still need polling.
    pub poll_pending: usize,
    /// Of those, contacts whose poll message is still out (not sent again).
    pub poll_in_flight: usize,
    /// Of those, contacts left for a later sweep: the poll queue was full.
    pub poll_deferred: usize,
}

/// `slot` names this sweep (the schedule's time): messages of one sweep have
/// deterministic ids, so a retried sweep's duplicates can be told apart in traces.
pub async fn sweep<P, Q, C>(
    pending: &P,
    poll_queue: &Q,
    check_queue: &C,
    settings: &SweepSettings,
    slot: &str,
    now: DateTime<Utc>,
) -> Result<SweepSummary, ContactError>
where
    P: PendingContacts,
    Q: WorkQueue,
    C: WorkQueue,
{
    let mut summary = SweepSummary::default();
    let mut failures = Vec::new();

    match send_checks(pending, check_queue, slot).await {
        Ok(n) => summary.to_check = n,
        Err(e) => failures.push(("checks", e)),
    }
    match for_each_page(pending, ContactState::CompletedQueue, |ids| async move {
        pending.delete(&ids).await.map_err(ContactError::from)
    })
    .await
    {
        Ok(n) => summary.deleted = n,
        Err(e) => failures.push(("deletes", e)),
    }
    if let Err(e) = send_polls(pending, poll_queue, settings, slot, now, &mut summary).await {
        failures.push(("polls", e));
    }
    crate::metrics::polls(summary.to_poll, summary.poll_deferred);

    info!(
        slot,
        to_check = summary.to_check,
        deleted = summary.deleted,
        to_poll = summary.to_poll,
        poll_pending = summary.poll_pending,
        poll_in_flight = summary.poll_in_flight,
        poll_deferred = summary.poll_deferred,
        failed = failures.len(),
        "sweep done"
    );
    let mut failures = failures.into_iter();
    match failures.next() {
        None => Ok(summary),
        Some((part, first)) => {
            for (other, e) in failures {
                warn!(part = other, error = %kit::error::chain(&e), "sweep part failed");
            }
            warn!(part, error = %kit::error::chain(&first), "sweep part failed");
            Err(first)
        }
    }
}

async fn send_checks<P: PendingContacts, C: WorkQueue>(
    pending: &P,
    check_queue: &C,
    slot: &str,
) -> Result<usize, ContactError> {
    for_each_page(pending, ContactState::CompletedAgent, |ids| async move {
        let messages: Vec<_> =
            ids.iter().map(|id| envelope(id, slot, CheckRecording { contact_id: id.to_string() })).collect();
        check_queue.send(&messages).await.map_err(ContactError::from)
    })
    .await
}

/// Which contacts to poll now: those without a message out, longest-unpolled
/// first (never-polled before all), as many as keep the messages out within `cap`.
/// Returns them, how many are out, and how many wait for a later sweep.
pub fn choose_polls(candidates: Vec<PollCandidate>, now: DateTime<Utc>, cap: u64) -> (Vec<ContactId>, usize, usize) {
    let (mut due, out): (Vec<_>, Vec<_>) =
        candidates.into_iter().partition(|c| c.poll_claimed_until.is_none_or(|until| until <= now));
    // Each claim held is one message out (sent, not yet polled): the queue's depth,
    // counted without asking SQS.
    let room = usize::try_from(cap.saturating_sub(out.len() as u64)).unwrap_or(usize::MAX);
    due.sort_by(|a, b| a.polled_at.cmp(&b.polled_at).then_with(|| a.contact_id.cmp(&b.contact_id)));
    let deferred = due.len().saturating_sub(room);
    due.truncate(room);
    (due.into_iter().map(|c| c.contact_id).collect(), out.len(), deferred)
}

async fn send_polls<P, Q>(
    pending: &P,
    poll_queue: &Q,
    settings: &SweepSettings,
    slot: &str,
    now: DateTime<Utc>,
    summary: &mut SweepSummary,
) -> Result<(), ContactError>
where
    P: PendingContacts,
    Q: WorkQueue,
{
    let mut ids = Vec::new();
    for state in [ContactState::Initialised, ContactState::InProgressQueue, ContactState::InProgressAgent] {
        for_each_page(pending, state, |page| {
            ids.extend(page);
            std::future::ready(Ok(()))
        })
        .await?;
    }
    // A contact a poll moved on while the sweep paged is in two states' pages
    // (BatchGetItem refuses a key twice).
    ids.sort();
    ids.dedup();
    summary.poll_pending = ids.len();
    if ids.is_empty() {
        return Ok(());
    }
    let candidates = pending.poll_candidates(&ids).await?;
    let (chosen, in_flight, deferred) = choose_polls(candidates, now, settings.poll_queue_cap);
    summary.poll_in_flight = in_flight;
    summary.poll_deferred = deferred;

    // Claim, then send: a contact is sent only by the sweep that holds its claim.
    let lease = chrono::Duration::from_std(settings.poll_lease).unwrap_or(chrono::Duration::hours(1));
    let until = now + lease;
    let claims: Vec<(ContactId, Result<bool, _>)> = futures::stream::iter(chosen)
        .map(|id| async move {
            let claimed = pending.claim_poll(&id, now, until).await;
            (id, claimed)
        })
        .buffered(CLAIM_CONCURRENCY)
        .collect()
        .await;
    let mut claimed = Vec::with_capacity(claims.len());
    let mut claim_failure = None;
    for (id, result) in claims {
        match result {
            Ok(true) => claimed.push(id),
            // Polled or claimed since the read: nothing to send.
            Ok(false) => summary.poll_in_flight += 1,
            Err(e) => claim_failure = Some(e),
        }
    }
    for (i, chunk) in claimed.chunks(SEND_BATCH).enumerate() {
        let messages: Vec<_> =
            chunk.iter().map(|id| envelope(id, slot, PollContact { contact_id: id.to_string() })).collect();
        if let Err(e) = poll_queue.send(&messages).await {
            // Unsent: give their claims back, so the next sweep need not wait out the lease.
            for id in &claimed[i * SEND_BATCH..] {
                if let Err(release) = pending.unclaim_poll(id, until).await {
                    warn!(correlation_id = %id, error = %kit::error::chain(&release), "could not release a poll claim; it lapses with its lease");
                }
            }
            return Err(e.into());
        }
        summary.to_poll += chunk.len();
    }
    match claim_failure {
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}

/// Runs `work` on each page of contacts pending in `state`; returns how many there were.
async fn for_each_page<P, F, Fut>(pending: &P, state: ContactState, mut work: F) -> Result<usize, ContactError>
where
    P: PendingContacts,
    F: FnMut(Vec<ContactId>) -> Fut,
    Fut: std::future::Future<Output = Result<(), ContactError>>,
{
    let mut count = 0;
    let mut after = None;
    loop {
        let page = pending.pending(state, after, SWEEP_PAGE).await?;
        count += page.items.len();
        if !page.items.is_empty() {
            work(page.items).await?;
        }
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(count),
        }
    }
}
