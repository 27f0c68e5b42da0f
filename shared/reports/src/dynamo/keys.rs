//! The reports table's attribute names, and the report attributes written onto
//! activity-log items (which live in the activity table, keyed as `activity::keys`).
//!
//! | item   | key (`report_id`) | what it holds                                      |
//! |--------|-------------------|----------------------------------------------------|
//! | report | the report's UUID | status, event ids, ids of ticket / TxMA / email, timestamps, claims |

pub const REPORT_ID: &str = "report_id";
pub const USER_ID: &str = "user_id";
pub const STATUS: &str = "status";
pub const EVENT_IDS: &str = "event_ids";
pub const REPORTED_AT: &str = "reported_at";
pub const REQUESTED_AT: &str = "requested_at";
pub const CONTENT_HASH: &str = "content_hash";
pub const TICKET_ID: &str = "ticket_id";
pub const TICKET_CREATED_AT: &str = "ticket_created_at";
pub const TXMA_EVENT_ID: &str = "txma_event_id";
pub const TXMA_SENT_AT: &str = "txma_sent_at";
pub const NOTIFICATION_ID: &str = "notification_id";
pub const EMAIL_SENT_AT: &str = "email_sent_at";
pub const COMPLETED_AT: &str = "completed_at";
pub const REJECTION_REASON: &str = "rejection_reason";
pub const FAILURE: &str = "failure";
/// The user's email, kept only while the report is open (a redrive rebuilds the
/// confirmation's message from it); removed when it completes.
pub const EMAIL: &str = "email";
/// The correlation id of the request that started the workflow.
pub const CORRELATION_ID: &str = "correlation_id";
pub const REDRIVES: &str = kit::redrive::ATTRIBUTE;

/// The sparse `open-reports` index: only reports still under way carry these two
/// attributes (set when requested, removed when completed), so "which reports are
/// stuck" is a query, not a scan. One shard: open reports are few at any moment.
pub const OPEN_REPORTS_INDEX: &str = "open-reports";
pub const OPEN_SHARD: &str = "open_shard";
pub const OPEN_SHARD_VALUE: &str = "OPEN";
pub const OPEN_SINCE: &str = "open_since";

/// On activity-log items: which report marked them, and when.
pub const REPORT_REQUESTED_AT: &str = "report_requested_at";

use crate::report::Effect;

/// Per effect: where its id and time go, and its claim (epoch ms until which one
/// attempt owns it) and "outcome unknown" flag.
pub struct EffectAttrs {
    pub id: &'static str,
    pub at: &'static str,
    pub claim_until: &'static str,
    pub uncertain: &'static str,
}

pub fn effect_attrs(effect: Effect) -> EffectAttrs {
    match effect {
        Effect::Txma => EffectAttrs {
            id: TXMA_EVENT_ID,
            at: TXMA_SENT_AT,
            claim_until: "txma_claim_until",
            uncertain: "txma_uncertain",
        },
        Effect::Email => EffectAttrs {
            id: NOTIFICATION_ID,
            at: EMAIL_SENT_AT,
            claim_until: "email_claim_until",
            uncertain: "email_uncertain",
        },
    }
}
