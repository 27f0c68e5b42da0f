//! What "stuck" means, once, for every workflow kind — used by the scheduled
//! `stuck-detector` function (a metric per kind, an alarm per kind) and by
//! `ops stuck` / `ops workflow redrive` alike, so the two can never disagree.
//!
//! In a choreography no engine knows a workflow exists: a workflow whose next
//! message was lost (a purge, a DLQ message that expired, a publish that never
//! happened) waits forever with nothing failing. So each kind names its non-final
//! states that the *pipeline* (not a person) must move on, how long each may last
//! ([`Limits`], configurable, documented defaults), and the sparse index that holds
//! the items in it ([`Sources`]: a query with a time cutoff, never a scan). The
//! index is only a pre-filter: the [`rules`] decide on the item itself.
//!
//! | kind | stuck state | index | aged from |
//! |---|---|---|---|
//! | report | open (REQUESTED, TICKET_CREATED, FAILED) | `open-reports` | when it was marked |
//! | approval | PENDING, approval emails not delivered | `awaiting` = emails | the announcement's *first* due time |
//! | approval | decided, not on the FIFO queue | `awaiting` = enqueue | the announcement's first due time |
//! | approval | on the FIFO queue, not picked up by the processor | `awaiting` = processor | when it was enqueued |
//! | approval | EXECUTING | `awaiting` = execution | when EXECUTING was recorded |
//! | contact | INITIALISED / IN_PROGRESS (call not ended) | `pending-since` | when it was first cached |
//! | contact | COMPLETED - AGENT, recording not settled | `pending-since` | when the call ended |
//! | audited workflow | `announced_seq < seq` | `announce-pending` | when the action was accepted |
//!
//! [`redrive`] rebuilds, from a stuck item, the message the step before would have
//! published, for the step where it stopped.

pub mod check;
pub mod dynamo;
pub mod finding;
pub mod kind;
pub mod limits;
pub mod metrics;
pub mod redrive;
pub mod rules;
pub mod sources;

pub use check::{check, Check};
pub use finding::Finding;
pub use kind::{Kind, StuckState};
pub use limits::Limits;
pub use sources::{SourceError, Sources};
#[cfg(test)]
mod tests;
