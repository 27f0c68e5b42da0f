//! The events the report workflow publishes between its steps (in kit envelopes).

use kit::Message;
use serde::{Deserialize, Serialize};

use crate::request::ReportRequest;

/// `report.requested`: the events are marked and the report exists as REQUESTED.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportRequested {
    #[serde(flatten)]
    pub report: ReportRequest,
}

impl Message for ReportRequested {
    const TYPE: &'static str = "report.requested";
    const VERSION: u32 = 1;
}

/// `report.ticket-created`: the original request plus the Zendesk ticket id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketCreated {
    #[serde(flatten)]
    pub report: ReportRequest,
    pub ticket_id: u64,
}

impl Message for TicketCreated {
    const TYPE: &'static str = "report.ticket-created";
    const VERSION: u32 = 1;
}

/// Message ids are deterministic per (report, event): a step that publishes again
/// after a redelivery sends the same id, so consumers and traces can tell.
pub fn message_id(kind: &str, report_id: &uuid::Uuid) -> String {
    format!("{kind}:{report_id}")
}
