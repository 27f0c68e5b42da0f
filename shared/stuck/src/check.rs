//! One check of every kind: each stuck state's index read with its own cutoff, each
//! candidate judged by the rules. A kind that cannot be read is reported as such,
//! never as "nothing stuck".

use std::collections::{BTreeMap, BTreeSet};

use approvals::AwaitedStep;
use chrono::{DateTime, Utc};
use contacts::ContactState;

use crate::finding::Finding;
use crate::kind::{Kind, StuckState};
use crate::limits::Limits;
use crate::rules;
use crate::sources::{SourceError, Sources};

#[derive(Debug, Default)]
pub struct Check {
    /// Per kind read: its stuck workflows (possibly none), oldest first.
    pub findings: BTreeMap<Kind, Vec<Finding>>,
    /// Kinds that could not be read (no count for them: the alarm's missing data).
    pub failed: Vec<SourceError>,
}

impl Check {
    pub fn count(&self, kind: Kind) -> Option<usize> {
        self.findings.get(&kind).map(Vec::len)
    }

    pub fn all(&self) -> impl Iterator<Item = &Finding> {
        self.findings.values().flatten()
    }
}

/// Checks `kinds` at `now`; at most `limit` candidates per state's index.
pub async fn check<S: Sources + ?Sized>(
    sources: &S,
    kinds: &[Kind],
    now: DateTime<Utc>,
    limits: &Limits,
    limit: usize,
) -> Check {
    let mut out = Check::default();
    for &kind in kinds {
        if !sources.has(kind) {
            continue;
        }
        match check_kind(sources, kind, now, limits, limit).await {
            Ok(mut found) => {
                found.sort_by(|a, b| a.since.cmp(&b.since).then_with(|| a.id.cmp(&b.id)));
                out.findings.insert(kind, found);
            }
            Err(e) => out.failed.push(e),
        }
    }
    out
}

async fn check_kind<S: Sources + ?Sized>(
    sources: &S,
    kind: Kind,
    now: DateTime<Utc>,
    limits: &Limits,
    limit: usize,
) -> Result<Vec<Finding>, SourceError> {
    let cutoff = |state: StuckState| now - limits.get(state);
    let mut found = Vec::new();
    let mut seen = BTreeSet::new();
    let mut keep = |f: Option<Finding>| {
        if let Some(f) = f {
            if seen.insert(f.id.clone()) {
                found.push(f);
            }
        }
    };
    match kind {
        Kind::Report => {
            for r in sources.open_reports(cutoff(StuckState::ReportOpen), limit).await? {
                keep(rules::report(&r, now, limits));
            }
        }
        Kind::Approval => {
            for (step, state) in [
                (AwaitedStep::Emails, StuckState::ApprovalEmails),
                (AwaitedStep::Enqueue, StuckState::ApprovalEnqueue),
                (AwaitedStep::Processor, StuckState::ApprovalPickup),
                (AwaitedStep::Execution, StuckState::ApprovalExecuting),
            ] {
                for r in sources.approvals_awaiting(step, cutoff(state), limit).await? {
                    keep(rules::approval(&r, now, limits));
                }
            }
        }
        Kind::Contact => {
            // The index's range key is when the contact was first cached, which is
            // never after the call's end: a safe pre-filter for both states.
            for (state, stuck) in [
                (ContactState::Initialised, StuckState::ContactCall),
                (ContactState::InProgressQueue, StuckState::ContactCall),
                (ContactState::InProgressAgent, StuckState::ContactCall),
                (ContactState::CompletedAgent, StuckState::ContactCheck),
            ] {
                for c in sources.contacts_pending(state, cutoff(stuck), limit).await? {
                    keep(rules::contact(&c, now, limits));
                }
            }
        }
        Kind::Workflow => {
            for w in sources.unannounced_workflows(cutoff(StuckState::WorkflowAnnounce), limit).await? {
                keep(rules::workflow(&w, now, limits));
            }
        }
    }
    Ok(found)
}
