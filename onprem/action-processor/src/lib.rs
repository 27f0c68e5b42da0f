//! The on-prem action processor (seed 002): a long-running binary, outbound
//! connections only. It long-polls `approval-decisions.fifo`, records EXECUTING
//! through the approval API, runs the approved action with a pluggable executor
//! (log, command, webhook), records EXECUTED / FAILED, and deletes the message.
//! Rejections are recorded, not executed. See [`process`] for the semantics; an
//! outcome is kept on disk ([`outcomes`]) until the API has it.

pub mod api;
pub mod config;
pub mod executor;
pub mod health;
pub mod outcomes;
pub mod process;
pub mod run;
pub mod sigv4;
pub mod source;
