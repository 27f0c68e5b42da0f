//! The approvals table: one item per request, key `request_id`.
//!
//! | attribute | what |
//! |---|---|
//! | `status`, `decision`, `decided_at`, `decided_by` | the state machine and the first valid decision |
//! | `expires_at` (text), `expires_at_ms` (number) | shown / compared in conditions (`:now < expires_at_ms`) |
//! | `expires_ttl` | DynamoDB TTL (epoch seconds): clean-up only, `retention` after expiry |
//! | `approvers` | map `"0".."n-1"` → `{email, token_hash, minted_at, emailed_at, used_at, revoked_at, notified_at, undeliverable_at, undeliverable_reason}` |
//! | `outbox`, `outbox_due` | sparse index `outbox`: announcements the sweep re-publishes until confirmed |
//! | `emails_claim`, `notify_claim` | epoch ms until which one attempt owns the effect |
//! | `execution_*`, `rejection_recorded_at` | the on-prem processor's reports |
//! | `awaiting`, `awaiting_since` | sparse index `awaiting`: the step the request waits for and since when (epoch ms; an announcement's first due time) |
//! | `history` | list of `{at, event, detail?}` |
//! | `redrives` | list of `{at, by, step}`: operators' redrives |

pub const REQUEST_ID: &str = "request_id";
pub const STATUS: &str = "status";
pub const EXPIRES_AT_MS: &str = "expires_at_ms";
pub const APPROVERS: &str = "approvers";
pub const DECISION: &str = "decision";
pub const DECIDED_AT: &str = "decided_at";
pub const DECIDED_BY: &str = "decided_by";
pub const DECISION_ENQUEUED_AT: &str = "decision_enqueued_at";
pub const EMAILS_SENT_AT: &str = "emails_sent_at";
pub const APPROVERS_NOTIFIED_AT: &str = "approvers_notified_at";
pub const EMAILS_CLAIM: &str = "emails_claim";
pub const NOTIFY_CLAIM: &str = "notify_claim";
pub const EXECUTION_ATTEMPT: &str = "execution_attempt";
pub const EXECUTION_STARTED_AT: &str = "execution_started_at";
pub const EXECUTION_FINISHED_AT: &str = "execution_finished_at";
pub const EXECUTION_OUTPUT: &str = "execution_output";
pub const REJECTION_RECORDED_AT: &str = "rejection_recorded_at";
pub const OUTBOX: &str = "outbox";
pub const OUTBOX_DUE: &str = "outbox_due";
pub const HISTORY: &str = "history";
pub const AWAITING: &str = "awaiting";
pub const AWAITING_SINCE: &str = "awaiting_since";
pub const REDRIVES: &str = kit::redrive::ATTRIBUTE;

/// The sparse index of pending announcements (hash `outbox`, range `outbox_due`).
pub const OUTBOX_INDEX: &str = "outbox";
/// The sparse index of what requests wait for from the pipeline (hash `awaiting`,
/// range `awaiting_since`): the stuck check's read.
pub const AWAITING_INDEX: &str = "awaiting";

/// Fields of one approver's entry in `approvers`.
pub mod approver {
    pub const TOKEN_HASH: &str = "token_hash";
    pub const MINTED_AT: &str = "minted_at";
    pub const EMAILED_AT: &str = "emailed_at";
    pub const USED_AT: &str = "used_at";
    pub const REVOKED_AT: &str = "revoked_at";
    pub const NOTIFIED_AT: &str = "notified_at";
    pub const UNDELIVERABLE_AT: &str = "undeliverable_at";
    pub const UNDELIVERABLE_REASON: &str = "undeliverable_reason";
}

/// The executor's output is kept to this many bytes (the item's limit is 400 KB).
pub const MAX_OUTPUT_BYTES: usize = 4096;
