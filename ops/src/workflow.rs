//! `ops workflow <id>`: a workflow's timeline from its progress fields: each step,
//! when, the ids it obtained, the current status, and what it waits for.

use reports::{Report, ReportStatus};

/// One line of a timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Point {
    pub at: chrono::DateTime<chrono::Utc>,
    pub step: String,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeline {
    pub system: &'static str,
    pub id: String,
    pub status: String,
    pub points: Vec<Point>,
    /// What the workflow waits for now, if it is not finished.
    pub waiting_for: Option<String>,
}

/// A report's timeline (seed 000).
pub fn report_timeline(r: &Report) -> Timeline {
    let mut points = vec![
        Point {
            at: r.reported_at,
            step: "reported by the user".into(),
            detail: format!("{} event(s)", r.event_ids.len()),
        },
        Point {
            at: r.requested_at,
            step: if r.status == ReportStatus::Rejected { "mark-reported: rejected" } else { "mark-reported" }.into(),
            detail: r.rejection_reason.clone().unwrap_or_else(|| "events marked".to_owned()),
        },
    ];
    let mut add = |at: Option<chrono::DateTime<chrono::Utc>>, step: &'static str, detail: String| {
        if let Some(at) = at {
            points.push(Point { at, step: step.to_owned(), detail });
        }
    };
    add(r.ticket_created_at, "create-zendesk-ticket", r.ticket_id.map(|t| format!("ticket {t}")).unwrap_or_default());
    add(r.txma_sent_at, "send-txma-event", r.txma_event_id.clone().map(|e| format!("event {e}")).unwrap_or_default());
    add(
        r.email_sent_at,
        "send-notify-email",
        r.notification_id.clone().map(|n| format!("notification {n}")).unwrap_or_default(),
    );
    add(r.completed_at, "completed", String::new());
    if let Some(f) = &r.failure {
        add(Some(f.at), "dead-lettered", format!("{}: {} ({})", f.step, crate::redact::redact(&f.reason), f.kind));
    }
    points.extend(redrive_points(&r.redrives));
    points.sort_by_key(|p| p.at);
    Timeline {
        system: "report",
        id: r.report_id.clone(),
        status: r.status.as_str().to_owned(),
        points,
        waiting_for: waiting_for(r),
    }
}

/// An operator's redrives, as timeline points (`ops workflow redrive`).
pub fn redrive_points(redrives: &[kit::redrive::Redrive]) -> Vec<Point> {
    redrives
        .iter()
        .map(|r| Point {
            at: r.at,
            step: format!("redrive → {}", r.step),
            detail: format!("by {}", crate::redact::redact(&r.by)),
        })
        .collect()
}

/// What an unfinished report waits for.
pub fn waiting_for(r: &Report) -> Option<String> {
    match r.status {
        ReportStatus::Completed | ReportStatus::Rejected => None,
        ReportStatus::Failed => r
            .failure
            .as_ref()
            .map(|f| format!("a fix and `ops dlq redrive {}-dlq` ({} dead-lettered it: {})", f.step, f.step, f.kind)),
        ReportStatus::Requested => Some("create-zendesk-ticket (queue create-zendesk-ticket)".to_owned()),
        ReportStatus::TicketCreated => {
            let mut missing = Vec::new();
            if r.txma_event_id.is_none() {
                missing.push("send-txma-event");
            }
            if r.notification_id.is_none() {
                missing.push("send-notify-email");
            }
            Some(if missing.is_empty() { "the fan-in (completion)".to_owned() } else { missing.join(" and ") })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> Report {
        serde_json::from_value(serde_json::json!({
            "report_id": "r-1", "user_id": "u", "status": "TICKET_CREATED", "event_ids": ["e"],
            "reported_at": "2024-06-01T12:00:00Z", "requested_at": "2024-06-01T12:00:01Z",
            "ticket_id": 7, "ticket_created_at": "2024-06-01T12:00:02Z",
            "txma_event_id": "t", "txma_sent_at": "2024-06-01T12:00:03Z"
        }))
        .unwrap()
    }

    #[test]
    fn a_timeline_lists_the_steps_in_order_and_says_what_is_missing() {
        let t = report_timeline(&report());
        let steps: Vec<&str> = t.points.iter().map(|p| p.step.as_str()).collect();
        assert_eq!(steps, ["reported by the user", "mark-reported", "create-zendesk-ticket", "send-txma-event"]);
        assert_eq!(t.waiting_for.as_deref(), Some("send-notify-email"));
        assert_eq!(t.points[2].detail, "ticket 7");
    }

    #[test]
    fn a_failed_report_points_at_its_dlq() {
        let mut r = report();
        r.status = ReportStatus::Failed;
        r.failure = Some(reports::Failure {
            step: "send-notify-email".into(),
            kind: "provider_rejected".into(),
            reason: "Notify answered 400 for jane@example.com".into(),
            at: "2024-06-01T12:00:04Z".parse().unwrap(),
        });
        let t = report_timeline(&r);
        assert!(t.waiting_for.unwrap().contains("ops dlq redrive send-notify-email-dlq"));
        let last = t.points.last().unwrap();
        assert!(last.detail.contains("<email>") && !last.detail.contains("jane@"), "{}", last.detail);
    }
}
