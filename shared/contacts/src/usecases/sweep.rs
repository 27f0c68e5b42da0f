//! recording-sweep: every five minutes, fan the contacts with work left out to the
//! steps that do it (the seed's state machine, as messages).

use serde::Serialize;
use tracing::info;

use crate::contact::ContactId;
use crate::error::ContactError;
use crate::messages::{envelope, CheckRecording, PollContact};
use crate::ports::{PendingContacts, WorkQueue};
use crate::state::ContactState;

/// Index page size: SQS batches are 10, deletes 25; 100 keeps pages cheap.
pub const SWEEP_PAGE: u32 = 100;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SweepSummary {
    pub to_poll: usize,
    pub to_check: usize,
    pub deleted: usize,
}

/// `slot` names this sweep (the schedule's time): messages of one sweep have
/// deterministic ids, so a retried sweep's duplicates can be told apart in traces.
pub async fn sweep<P: PendingContacts, Q: WorkQueue, C: WorkQueue>(
    pending: &P,
    poll_queue: &Q,
    check_queue: &C,
    slot: &str,
) -> Result<SweepSummary, ContactError> {
    let mut summary = SweepSummary::default();
    for state in [ContactState::Initialised, ContactState::InProgressQueue, ContactState::InProgressAgent] {
        summary.to_poll += for_each_page(pending, state, |ids| async move {
            let messages: Vec<_> =
                ids.iter().map(|id| envelope(id, slot, PollContact { contact_id: id.to_string() })).collect();
            poll_queue.send(&messages).await.map_err(ContactError::from)
        })
        .await?;
    }
    summary.deleted += for_each_page(pending, ContactState::CompletedQueue, |ids| async move {
        pending.delete(&ids).await.map_err(ContactError::from)
    })
    .await?;
    summary.to_check += for_each_page(pending, ContactState::CompletedAgent, |ids| async move {
        let messages: Vec<_> =
            ids.iter().map(|id| envelope(id, slot, CheckRecording { contact_id: id.to_string() })).collect();
        check_queue.send(&messages).await.map_err(ContactError::from)
    })
    .await?;
    info!(slot, to_poll = summary.to_poll, to_check = summary.to_check, deleted = summary.deleted, "sweep done");
    Ok(summary)
}

/// Runs `work` on each page of contacts pending in `state`; returns how many there were.
async fn for_each_page<P, F, Fut>(pending: &P, state: ContactState, work: F) -> Result<usize, ContactError>
where
    P: PendingContacts,
    F: Fn(Vec<ContactId>) -> Fut,
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
