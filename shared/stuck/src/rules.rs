//! The rules: is this item stuck now, in which state, since when. Pure: the index
//! only finds candidates; these decide, on the item as read.

use approvals::{ApprovalRequest, AwaitedStep, Status};
use audit::Workflow;
use chrono::{DateTime, Utc};
use contacts::{Contact, ContactState};
use reports::{Report, ReportStatus};

use crate::finding::Finding;
use crate::kind::StuckState;
use crate::limits::Limits;

fn finding(
    state: StuckState,
    id: &str,
    since: DateTime<Utc>,
    waiting_for: String,
    now: DateTime<Utc>,
    limits: &Limits,
) -> Option<Finding> {
    let limit = limits.get(state);
    (now - since > limit).then(|| Finding { state, id: id.to_owned(), since, limit, waiting_for })
}

/// A report not finished: REQUESTED, TICKET_CREATED or FAILED, aged from its marking.
pub fn report(r: &Report, now: DateTime<Utc>, limits: &Limits) -> Option<Finding> {
    if matches!(r.status, ReportStatus::Completed | ReportStatus::Rejected) {
        return None;
    }
    let waiting_for = report_waits_for(r).join(" and ");
    finding(StuckState::ReportOpen, &r.report_id, r.requested_at, waiting_for, now, limits)
}

/// The steps an open report still needs, in order.
pub fn report_waits_for(r: &Report) -> Vec<&'static str> {
    if r.ticket_id.is_none() {
        return vec!["create-zendesk-ticket"];
    }
    let mut out = Vec::new();
    if r.txma_event_id.is_none() {
        out.push("send-txma-event");
    }
    if r.notification_id.is_none() {
        out.push("send-notify-email");
    }
    if out.is_empty() {
        out.push("the fan-in (completion)");
    }
    out
}

/// The pipeline step an approval request waits for, if any, and since when. The
/// state is read from the request's own fields; `awaiting.since` (the first due
/// time of an announcement) dates the two announcement waits.
pub fn approval_wait(r: &ApprovalRequest, now: DateTime<Utc>) -> Option<(StuckState, DateTime<Utc>, String)> {
    let first_due = |step: AwaitedStep| r.awaiting.filter(|a| a.step == step).map(|a| a.since);
    match r.status {
        Status::Pending if r.emails_sent_at.is_none() && !r.is_expired(now) => Some((
            StuckState::ApprovalEmails,
            first_due(AwaitedStep::Emails).unwrap_or(r.created_at),
            "send-approval-emails".to_owned(),
        )),
        Status::Approved | Status::Rejected if r.decision_enqueued_at.is_none() => {
            let decided = r.decision.as_ref()?.decided_at;
            Some((
                StuckState::ApprovalEnqueue,
                first_due(AwaitedStep::Enqueue).unwrap_or(decided),
                "enqueue-decision".to_owned(),
            ))
        }
        Status::Approved => Some((
            StuckState::ApprovalPickup,
            r.decision_enqueued_at?,
            "the on-prem action-processor to take the decision off the FIFO queue".to_owned(),
        )),
        Status::Rejected if r.rejection_recorded_at.is_none() => Some((
            StuckState::ApprovalPickup,
            r.decision_enqueued_at?,
            "the on-prem action-processor to acknowledge the rejection".to_owned(),
        )),
        Status::Executing => Some((
            StuckState::ApprovalExecuting,
            r.execution.as_ref()?.started_at,
            "the on-prem action-processor to report the outcome".to_owned(),
        )),
        _ => None,
    }
}

pub fn approval(r: &ApprovalRequest, now: DateTime<Utc>, limits: &Limits) -> Option<Finding> {
    let (state, since, waiting_for) = approval_wait(r, now)?;
    finding(state, &r.request_id, since, waiting_for, now, limits)
}

/// A contact with work left: a call not ended (aged from its first log line), or
/// an agent call whose recording is not settled (aged from the call's end).
pub fn contact(c: &Contact, now: DateTime<Utc>, limits: &Limits) -> Option<Finding> {
    let id = c.contact_id.as_str();
    match c.pending_work()? {
        ContactState::Initialised | ContactState::InProgressQueue | ContactState::InProgressAgent => finding(
            StuckState::ContactCall,
            id,
            c.initialised_at,
            "poll-contact (DescribeContact)".to_owned(),
            now,
            limits,
        ),
        ContactState::CompletedAgent => {
            let what = if c.recording_state.is_none() { "check-recording" } else { "check-recording's alert" };
            finding(StuckState::ContactCheck, id, c.ended_at(), what.to_owned(), now, limits)
        }
        // Deleted by the next sweep; CLOSED is final.
        ContactState::CompletedQueue | ContactState::Closed => None,
    }
}

/// An accepted action whose event was never announced, aged from its acceptance.
pub fn workflow(w: &Workflow, now: DateTime<Utc>, limits: &Limits) -> Option<Finding> {
    if w.is_announced() {
        return None;
    }
    let waiting_for = format!("the announcement of action {} (create-audit-record, send-notification)", w.seq);
    finding(StuckState::WorkflowAnnounce, &w.workflow_id, w.updated_at, waiting_for, now, limits)
}
