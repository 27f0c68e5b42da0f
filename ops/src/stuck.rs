//! `ops stuck`: workflows not finished in time. Each system answers from an index
//! of its unfinished workflows (no scans); the scheduled `stuck-detector` function
//! runs the same check in AWS and emits a metric the `stuck` alarm watches.

use reports::dynamo::DynamoReportStore;

use crate::workflow::{report_timeline, Timeline};

/// At most this many stuck workflows are listed per system.
pub const LIMIT: usize = 1000;

pub async fn stuck_reports(
    store: &DynamoReportStore,
    older_than: std::time::Duration,
) -> anyhow::Result<Vec<Timeline>> {
    let cutoff = chrono::Utc::now() - chrono::Duration::from_std(older_than)?;
    Ok(store.open_before(cutoff, LIMIT).await?.iter().map(report_timeline).collect())
}

/// Approval requests whose hand-off between steps has been pending longer than
/// `older_than` (the outbox index: announced, not yet confirmed by the next step).
pub async fn stuck_approvals(
    store: &approvals::dynamo::DynamoApprovalStore,
    older_than: std::time::Duration,
) -> anyhow::Result<Vec<Timeline>> {
    use approvals::ports::{Outbox, RequestStore};
    let cutoff = chrono::Utc::now() - chrono::Duration::from_std(older_than)?;
    let mut out = Vec::new();
    for (id, _event) in store.due(cutoff, LIMIT).await? {
        if let Some(r) = store.get(&id).await? {
            out.push(crate::systems::approval_timeline(&r));
        }
    }
    Ok(out)
}

/// Contacts whose call ended with an agent but whose recording was never checked,
/// longer than `older_than` ago (the pending index, then each contact).
pub async fn stuck_contacts(
    store: &contacts::dynamo::DynamoContactStore,
    older_than: std::time::Duration,
) -> anyhow::Result<Vec<Timeline>> {
    use contacts::ports::{ContactReader, PendingContacts};
    let cutoff = chrono::Utc::now() - chrono::Duration::from_std(older_than)?;
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let page = store.pending(contacts::ContactState::CompletedAgent, after, 100).await?;
        for id in &page.items {
            if let Some(c) = ContactReader::get(store, id).await? {
                if c.recording_state.is_none() && c.updated_at < cutoff {
                    out.push(crate::systems::contact_timeline(&c));
                }
            }
        }
        match page.next {
            Some(n) if out.len() < LIMIT => after = Some(n),
            _ => return Ok(out),
        }
    }
}
