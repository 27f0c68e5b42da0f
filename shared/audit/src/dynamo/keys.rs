//! Table attributes and index names (the template declares the same).
//!
//! | table         | key                              | indexes |
//! |---------------|----------------------------------|---------|
//! | workflows     | `workflow_id`                    | GSI `announce-pending` (`announce_pending`, `announce_pending_since`, sparse) |
//! | audit         | `workflow_id`, `seq` (N)         | GSI `by-actor` (`actor`, `at`), GSI `by-scheme` (`scheme`, `at`) |
//! | notifications | `user_id`, `notification_id`     | LSI `by-time` (`created_key`), LSI `unread` (`unread_key`, sparse) |

pub const WORKFLOW_ID: &str = "workflow_id";
pub const STATE: &str = "state";
pub const SEQ: &str = "seq";
pub const ANNOUNCED_SEQ: &str = "announced_seq";
/// The sparse `announce-pending` index (hash `announce_pending`, one value; range
/// `announce_pending_since`, epoch ms): workflows whose last action is accepted but
/// not yet announced. The stuck check's read.
pub const ANNOUNCE_PENDING_INDEX: &str = "announce-pending";
pub const ANNOUNCE_PENDING: &str = "announce_pending";
pub const ANNOUNCE_PENDING_VALUE: &str = "PENDING";
pub const ANNOUNCE_PENDING_SINCE: &str = "announce_pending_since";
pub const REDRIVES: &str = kit::redrive::ATTRIBUTE;

pub const ACTOR: &str = "actor";
pub const SCHEME: &str = "scheme";
pub const AT: &str = "at";
pub const BY_ACTOR: &str = "by-actor";
pub const BY_SCHEME: &str = "by-scheme";

pub const USER_ID: &str = "user_id";
pub const NOTIFICATION_ID: &str = "notification_id";
/// `{created_at}#{notification_id}`: newest-first order, ties broken by id.
pub const CREATED_KEY: &str = "created_key";
/// Same value as `created_key` while unread, removed on read: the sparse `unread` index.
pub const UNREAD_KEY: &str = "unread_key";
pub const READ_AT: &str = "read_at";
pub const PUBLISHED_AT: &str = "published_at";
pub const BY_TIME: &str = "by-time";
pub const UNREAD: &str = "unread";
