//! The audit event for TxMA (GOV.UK One Login's audit pipeline), sent to its queue.
//!
//! The event id is derived from the report id, and every field from the report,
//! so a resend after an unknown outcome is the identical event: TxMA dedupes on
//! `event_id`.

use async_trait::async_trait;
use kit::sdk::{classify_sdk_error, SdkFailure};
use kit::{Classify, ErrorClass};
use serde::Serialize;
use uuid::Uuid;

use crate::ports::AuditSink;
use crate::request::ReportRequest;

pub const EVENT_NAME: &str = "HOME_REPORT_SUSPICIOUS_ACTIVITY";

/// Namespace for TxMA event ids (UUID v5 of the report id).
const TXMA_NAMESPACE: Uuid = Uuid::from_u128(0x5c1f_7a0e_9d1b_4c3a_8f2e_6b7d_0a91_c4e2);

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TxmaEvent {
    pub event_id: String,
    pub event_name: &'static str,
    pub timestamp: i64,
    pub event_timestamp_ms: i64,
    pub component_id: String,
    pub user: TxmaUser,
    pub extensions: TxmaExtensions,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TxmaUser {
    pub user_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TxmaExtensions {
    pub zendesk_ticket_number: String,
    pub report_id: String,
    pub suspicious_activity_event_ids: Vec<String>,
}

impl TxmaEvent {
    pub fn for_report(req: &ReportRequest, ticket_id: u64, component_id: &str) -> Self {
        Self {
            event_id: event_id(&req.report_id),
            event_name: EVENT_NAME,
            timestamp: req.reported_at.timestamp(),
            event_timestamp_ms: req.reported_at.timestamp_millis(),
            component_id: component_id.to_owned(),
            user: TxmaUser { user_id: req.user_id.to_string() },
            extensions: TxmaExtensions {
                zendesk_ticket_number: ticket_id.to_string(),
                report_id: req.report_id.to_string(),
                suspicious_activity_event_ids: req.event_ids.iter().map(|e| e.to_string()).collect(),
            },
        }
    }
}

pub fn event_id(report_id: &Uuid) -> String {
    Uuid::new_v5(&TXMA_NAMESPACE, report_id.as_bytes()).to_string()
}

#[derive(Debug, thiserror::Error)]
pub enum TxmaError {
    #[error("could not serialise the TxMA event: {0}")]
    Serialise(#[source] serde_json::Error),
    #[error("SQS SendMessage to TxMA failed: {0}")]
    Send(SdkFailure),
}

impl Classify for TxmaError {
    fn class(&self) -> ErrorClass {
        match self {
            TxmaError::Serialise(_) => ErrorClass::Permanent,
            TxmaError::Send(f) => f.class,
        }
    }
    fn kind(&self) -> &'static str {
        match self {
            TxmaError::Serialise(_) => "txma_serialise",
            TxmaError::Send(_) => "txma_send_failed",
        }
    }
    fn dependency(&self) -> Option<&'static str> {
        match self {
            // TxMA's queue lives in TxMA's account: its outage is theirs.
            TxmaError::Send(_) => Some("txma"),
            TxmaError::Serialise(_) => None,
        }
    }
}

/// TxMA's input queue (in AWS, another account's queue).
pub struct SqsAuditSink {
    client: aws_sdk_sqs::Client,
    queue_url: String,
}

impl SqsAuditSink {
    pub fn new(client: aws_sdk_sqs::Client, queue_url: impl Into<String>) -> Self {
        Self { client, queue_url: queue_url.into() }
    }
}

#[async_trait]
impl AuditSink for SqsAuditSink {
    async fn send(&self, event: &TxmaEvent) -> Result<(), TxmaError> {
        let body = serde_json::to_string(event).map_err(TxmaError::Serialise)?;
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body)
            .send()
            .await
            .map_err(|e| TxmaError::Send(classify_sdk_error(&e)))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::ReportSubmission;

    #[test]
    fn the_event_is_identical_on_every_attempt_and_carries_the_ticket() {
        let req = ReportRequest::parse(ReportSubmission {
            report_id: "8d0c7a4e-3b1f-4f5e-9a61-0c2b8e7d9f10".into(),
            user_id: "user-1".into(),
            email: "someone@example.gov.uk".into(),
            event_ids: vec!["e-1".into()],
            reported_at: "2024-06-01T12:00:00Z".parse().unwrap(),
        })
        .unwrap();
        let a = TxmaEvent::for_report(&req, 1001, "HOME");
        assert_eq!(a, TxmaEvent::for_report(&req, 1001, "HOME"));
        assert_eq!(a.extensions.zendesk_ticket_number, "1001");
        let json = serde_json::to_string(&a).unwrap();
        assert!(!json.contains("someone@"), "no email in the audit event");
        assert_ne!(event_id(&req.report_id), req.report_id.to_string());
    }
}
