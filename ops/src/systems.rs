//! The other systems' timelines for `ops workflow <id>`: an approval request
//! (seed 002), a contact (seed 003), an audited workflow (seed 004). Each from its
//! own progress fields; the id says which system holds it (or several are tried).

use approvals::{ApprovalRequest, Status};
use audit::{AuditRecord, ChainCheck, Workflow, WorkflowState};
use chrono::{DateTime, Utc};
use contacts::{Contact, ContactState};

use crate::redact::redact;
use crate::workflow::{redrive_points, Point, Timeline};

fn point(at: DateTime<Utc>, step: impl Into<String>, detail: impl Into<String>) -> Point {
    Point { at, step: step.into(), detail: detail.into() }
}

pub fn approval_timeline(r: &ApprovalRequest) -> Timeline {
    let mut points: Vec<Point> = r
        .history
        .iter()
        .map(|h| point(h.at, h.event.clone(), h.detail.as_deref().map(redact).unwrap_or_default()))
        .collect();
    points.extend(redrive_points(&r.redrives));
    points.sort_by_key(|p| p.at);
    let waiting_for = match r.status {
        Status::Pending if r.emails_sent_at.is_none() => Some("send-approval-emails".to_owned()),
        Status::Pending => Some(format!("an approver's decision (links expire {})", r.expires_at.to_rfc3339())),
        Status::Approved if r.decision_enqueued_at.is_none() => {
            Some("enqueue-decision (the FIFO approval-decisions queue)".to_owned())
        }
        Status::Approved => Some("the on-prem action-processor to pick the decision up".to_owned()),
        Status::Executing => Some(format!(
            "the action-processor to report back (EXECUTING since {})",
            r.execution.as_ref().map(|e| e.started_at.to_rfc3339()).unwrap_or_default()
        )),
        Status::Rejected | Status::Executed | Status::Failed | Status::Undeliverable => None,
    };
    // Addresses SES refused (each also a history entry, with SES's code): the count
    // rides on the status, as the approval API shows it.
    let undeliverable = r.approvers.iter().filter(|a| a.undeliverable_at.is_some()).count();
    let status = if undeliverable > 0 {
        format!("{} ({undeliverable} of {} approver(s) undeliverable)", r.status.as_str(), r.approvers.len())
    } else {
        r.status.as_str().to_owned()
    };
    Timeline { system: "approval", id: r.request_id.clone(), status, points, waiting_for }
}

pub fn contact_timeline(c: &Contact) -> Timeline {
    let mut points = vec![point(c.initialised_at, "ingest-connect-logs", "INITIALISED")];
    let mut add = |at: Option<DateTime<Utc>>, step: &str, detail: String| {
        if let Some(at) = at {
            points.push(point(at, step, detail));
        }
    };
    add(c.initiated_at, "call started", String::new());
    add(c.agent_connected_at, "agent connected", String::new());
    add(c.disconnected_at, "disconnected", String::new());
    add(c.polled_at, "poll-contact (last)", c.state.to_string());
    add(
        c.recording_checked_at,
        "check-recording",
        c.recording_state.map(|r| r.as_str().to_owned()).unwrap_or_default(),
    );
    add(c.alert_sent_at, "recording-missing alert", String::new());
    points.extend(redrive_points(&c.redrives));
    points.sort_by_key(|p| p.at);
    let status = match (&c.recording_state, &c.closed_reason) {
        (Some(r), _) => r.as_str().to_owned(),
        (None, Some(reason)) => format!("{} (closed: {})", c.state, redact(reason)),
        (None, None) => c.state.to_string(),
    };
    let waiting_for = if c.recording_state.is_some() || c.closed_reason.is_some() {
        None
    } else if c.state == ContactState::CompletedAgent {
        Some("check-recording (the recording arrives minutes after the call)".to_owned())
    } else {
        Some("poll-contact, on the next 5-minute sweep".to_owned())
    };
    Timeline { system: "contact", id: c.contact_id.to_string(), status, points, waiting_for }
}

pub fn audit_timeline(w: &Workflow, records: &[AuditRecord], check: &ChainCheck) -> Timeline {
    let mut points: Vec<Point> = records
        .iter()
        .map(|r| {
            let at = r.at.parse().unwrap_or_default();
            let from = r.from_state.as_deref().unwrap_or("-");
            point(at, format!("#{} {}", r.seq, r.action), format!("{from} → {} by {}", r.to_state, r.actor))
        })
        .collect();
    points.extend(redrive_points(&w.redrives));
    points.sort_by_key(|p| p.at);
    let chain = if check.valid {
        format!("chain of {} record(s) intact and signed", check.records)
    } else {
        format!(
            "CHAIN BROKEN at record {}: {}",
            check.broken_at.map(|s| s.to_string()).unwrap_or_default(),
            check.reason.clone().unwrap_or_default()
        )
    };
    let mut waiting = Vec::new();
    if w.announced_seq < w.seq {
        waiting.push(format!("the announcement of action {} (workflow-actions topic)", w.seq));
    }
    if (records.len() as u64) < w.announced_seq {
        waiting.push(format!("create-audit-record for {} action(s)", w.announced_seq - records.len() as u64));
    }
    match w.state {
        WorkflowState::Draft => waiting.push("the requester to request approval".to_owned()),
        WorkflowState::Requested => waiting.push("an approver's decision".to_owned()),
        WorkflowState::Approved | WorkflowState::Rejected => {}
    }
    Timeline {
        system: "audited workflow",
        id: w.workflow_id.clone(),
        status: format!("{} · {chain}", w.state.as_str()),
        points,
        waiting_for: (!waiting.is_empty()).then(|| waiting.join("; ")),
    }
}

#[cfg(test)]
mod tests {
    use approvals::state::HistoryEntry;
    use approvals::{NewRequest, Submission};

    use super::*;

    fn request() -> ApprovalRequest {
        let sub: Submission = serde_json::from_value(serde_json::json!({
            "request_id": "r-1", "issue_id": "INC-1", "action": "restart",
            "approvers": ["a@example.org", "b@example.org", "c@example.org"], "expires_in_minutes": 30,
        }))
        .unwrap();
        ApprovalRequest::new(&NewRequest::parse(sub, "2024-06-01T12:00:00Z".parse().unwrap()).unwrap())
    }

    fn refuse(r: &mut ApprovalRequest, i: usize) {
        let at: DateTime<Utc> = "2024-06-01T12:00:01Z".parse().unwrap();
        r.approvers[i].undeliverable_at = Some(at);
        r.approvers[i].undeliverable_reason = Some("MessageRejected".into());
        r.history.push(HistoryEntry::new(
            at,
            "approver_undeliverable",
            Some(format!("approver #{i}: MessageRejected")),
        ));
    }

    #[test]
    fn refused_addresses_are_counted_and_a_request_nobody_can_get_waits_for_nothing() {
        let mut r = request();
        refuse(&mut r, 1);
        r.emails_sent_at = Some("2024-06-01T12:00:02Z".parse().unwrap());
        let t = approval_timeline(&r);
        assert_eq!(t.status, "PENDING (1 of 3 approver(s) undeliverable)");
        assert!(t.waiting_for.unwrap().starts_with("an approver's decision"));
        let refused = t.points.iter().find(|p| p.step == "approver_undeliverable").unwrap();
        assert_eq!(refused.detail, "approver #1: MessageRejected");

        let mut r = request();
        for i in 0..3 {
            refuse(&mut r, i);
        }
        r.status = Status::Undeliverable;
        let t = approval_timeline(&r);
        assert_eq!(t.status, "UNDELIVERABLE (3 of 3 approver(s) undeliverable)");
        assert_eq!(t.waiting_for, None, "final");
        assert!(!format!("{t:?}").contains("@example.org"));
    }
}
