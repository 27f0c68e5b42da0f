//! The request item as stored, converted to and from the domain at this edge.
//! Absent values are left out of the item (never stored as NULL), because the
//! writes condition on `attribute_not_exists(...)`.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ports::StoreError;
use crate::state::{
    ApprovalRequest, Approver, AwaitedStep, Awaiting, Decision, DecisionRecord, Execution, HistoryEntry, OutboxEvent,
    Redrive, Status,
};

pub type Item = HashMap<String, AttributeValue>;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ApproverItem {
    email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    token_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    minted_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    emailed_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    used_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    revoked_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    notified_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    undeliverable_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    undeliverable_reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct HistoryItem {
    at: DateTime<Utc>,
    event: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct RequestItem {
    request_id: String,
    issue_id: String,
    action: String,
    /// JSON text: any object survives unchanged (DynamoDB maps would not keep, e.g., empty keys).
    action_parameters: String,
    status: Status,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    expires_at_ms: i64,
    /// DynamoDB TTL, epoch seconds.
    expires_ttl: i64,
    reveal_approver: bool,
    content_hash: String,
    approver_count: usize,
    approvers: BTreeMap<String, ApproverItem>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    decision: Option<Decision>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    decided_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    decided_by: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    decision_enqueued_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    emails_sent_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    approvers_notified_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    execution_attempt: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    execution_started_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    execution_finished_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    execution_output: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rejection_recorded_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    outbox: Option<OutboxEvent>,
    /// Epoch ms: the sparse index's range key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    outbox_due: Option<i64>,
    /// What the request waits for from the pipeline, and since when (epoch ms): the
    /// sparse `awaiting` index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    awaiting: Option<AwaitedStep>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    awaiting_since: Option<i64>,
    #[serde(default)]
    history: Vec<HistoryItem>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    redrives: Vec<Redrive>,
}

/// The new request's item; `outbox_due` schedules the sweep's re-announcement (and,
/// the first due time, starts the request's wait for the step it announces).
pub fn to_item(
    req: &ApprovalRequest,
    retention: chrono::Duration,
    outbox_due: DateTime<Utc>,
) -> Result<Item, StoreError> {
    let approvers = req
        .approvers
        .iter()
        .enumerate()
        .map(|(i, a)| {
            (
                i.to_string(),
                ApproverItem {
                    email: a.email.clone(),
                    token_hash: a.token_hash.clone(),
                    minted_at: a.minted_at,
                    emailed_at: a.emailed_at,
                    used_at: a.used_at,
                    revoked_at: a.revoked_at,
                    notified_at: a.notified_at,
                    undeliverable_at: a.undeliverable_at,
                    undeliverable_reason: a.undeliverable_reason.clone(),
                },
            )
        })
        .collect();
    let awaiting = req.awaiting.or_else(|| req.outbox.map(|e| Awaiting { step: e.awaited(), since: outbox_due }));
    let item = RequestItem {
        request_id: req.request_id.clone(),
        issue_id: req.issue_id.clone(),
        action: req.action.clone(),
        action_parameters: req.action_parameters.to_string(),
        status: req.status,
        created_at: req.created_at,
        expires_at: req.expires_at,
        expires_at_ms: req.expires_at.timestamp_millis(),
        expires_ttl: (req.expires_at + retention).timestamp(),
        reveal_approver: req.reveal_approver,
        content_hash: req.content_hash.clone(),
        approver_count: req.approvers.len(),
        approvers,
        decision: req.decision.as_ref().map(|d| d.decision),
        decided_at: req.decision.as_ref().map(|d| d.decided_at),
        decided_by: req.decision.as_ref().map(|d| d.decided_by),
        decision_enqueued_at: req.decision_enqueued_at,
        emails_sent_at: req.emails_sent_at,
        approvers_notified_at: req.approvers_notified_at,
        execution_attempt: req.execution.as_ref().map(|e| e.attempt_id.clone()),
        execution_started_at: req.execution.as_ref().map(|e| e.started_at),
        execution_finished_at: req.execution.as_ref().and_then(|e| e.finished_at),
        execution_output: req.execution.as_ref().and_then(|e| e.output.clone()),
        rejection_recorded_at: req.rejection_recorded_at,
        outbox: req.outbox,
        outbox_due: req.outbox.map(|_| outbox_due.timestamp_millis()),
        awaiting: awaiting.map(|a| a.step),
        awaiting_since: awaiting.map(|a| a.since.timestamp_millis()),
        redrives: req.redrives.clone(),
        history: req
            .history
            .iter()
            .map(|h| HistoryItem { at: h.at, event: h.event.clone(), detail: h.detail.clone() })
            .collect(),
    };
    serde_dynamo::to_item(item).map_err(|e| StoreError::malformed("approval request", format!("request item: {e}")))
}

pub fn from_item(item: Item) -> Result<ApprovalRequest, StoreError> {
    let it: RequestItem = serde_dynamo::from_item(item)
        .map_err(|e| StoreError::malformed("approval request", format!("request item: {e}")))?;
    let mut approvers = Vec::with_capacity(it.approver_count);
    for i in 0..it.approver_count {
        let a = it
            .approvers
            .get(&i.to_string())
            .ok_or_else(|| StoreError::malformed("approval request", format!("approver {i} is missing")))?;
        approvers.push(Approver {
            email: a.email.clone(),
            token_hash: a.token_hash.clone(),
            minted_at: a.minted_at,
            emailed_at: a.emailed_at,
            used_at: a.used_at,
            revoked_at: a.revoked_at,
            notified_at: a.notified_at,
            undeliverable_at: a.undeliverable_at,
            undeliverable_reason: a.undeliverable_reason.clone(),
        });
    }
    let decision = match (it.decision, it.decided_at, it.decided_by) {
        (Some(decision), Some(decided_at), Some(decided_by)) => {
            Some(DecisionRecord { decision, decided_at, decided_by })
        }
        _ => None,
    };
    let execution = match (it.execution_attempt, it.execution_started_at) {
        (Some(attempt_id), Some(started_at)) => Some(Execution {
            attempt_id,
            started_at,
            finished_at: it.execution_finished_at,
            output: it.execution_output,
        }),
        _ => None,
    };
    let awaiting = match (it.awaiting, it.awaiting_since.and_then(DateTime::from_timestamp_millis)) {
        (Some(step), Some(since)) => Some(Awaiting { step, since }),
        _ => None,
    };
    let action_parameters = serde_json::from_str(&it.action_parameters)
        .map_err(|e| StoreError::malformed("approval request", format!("action_parameters: {e}")))?;
    Ok(ApprovalRequest {
        request_id: it.request_id,
        issue_id: it.issue_id,
        action: it.action,
        action_parameters,
        status: it.status,
        created_at: it.created_at,
        expires_at: it.expires_at,
        reveal_approver: it.reveal_approver,
        content_hash: it.content_hash,
        approvers,
        decision,
        decision_enqueued_at: it.decision_enqueued_at,
        emails_sent_at: it.emails_sent_at,
        approvers_notified_at: it.approvers_notified_at,
        execution,
        rejection_recorded_at: it.rejection_recorded_at,
        outbox: it.outbox,
        awaiting,
        history: it.history.into_iter().map(|h| HistoryEntry { at: h.at, event: h.event, detail: h.detail }).collect(),
        redrives: it.redrives,
    })
}

/// One history entry as a one-element list, for `list_append`.
pub fn history_entry(entry: &HistoryEntry) -> AttributeValue {
    let mut map = HashMap::from([
        ("at".to_owned(), AttributeValue::S(render(entry.at))),
        ("event".to_owned(), AttributeValue::S(entry.event.clone())),
    ]);
    if let Some(d) = &entry.detail {
        map.insert("detail".to_owned(), AttributeValue::S(d.clone()));
    }
    AttributeValue::L(vec![AttributeValue::M(map)])
}

/// Timestamps as the item stores them (what chrono's serde writes: RFC 3339).
pub fn render(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::{NewRequest, Submission};

    #[test]
    fn a_request_survives_the_round_trip_and_absent_values_are_not_stored() {
        let sub: Submission = serde_json::from_value(serde_json::json!({
            "request_id": "r1", "issue_id": "I", "action": "a",
            "action_parameters": {"": [1, {"x": null}]},
            "approvers": ["a@x.org", "b@x.org"], "expires_in_minutes": 5,
        }))
        .unwrap();
        let now: DateTime<Utc> = "2024-06-01T12:00:00.123Z".parse().unwrap();
        let req = ApprovalRequest::new(&NewRequest::parse(sub, now).unwrap());
        let item = to_item(&req, chrono::Duration::days(30), now).unwrap();
        let approvers = item["approvers"].as_m().unwrap();
        assert!(!approvers["0"].as_m().unwrap().contains_key("token_hash"));
        assert!(!item.contains_key("decision"));
        assert_eq!(item["outbox"].as_s().unwrap(), "approval.requested");
        assert_eq!(item["awaiting"].as_s().unwrap(), "emails", "waits for the email step from its first due time");
        assert_eq!(item["awaiting_since"].as_n().unwrap(), &now.timestamp_millis().to_string());
        assert_eq!(
            item["expires_ttl"].as_n().unwrap(),
            &(req.expires_at + chrono::Duration::days(30)).timestamp().to_string()
        );
        let mut read = from_item(item).unwrap();
        assert_eq!(read.awaiting, Some(Awaiting { step: AwaitedStep::Emails, since: now }));
        read.awaiting = None;
        assert_eq!(read, req);
    }
}
