//! One decision message, start to finish. Semantics (see docs/decisions.md):
//!
//! * **Record before, record after.** EXECUTING is recorded through the API for
//!   this attempt before the action runs; EXECUTED or FAILED after. The API's
//!   conditional writes make "begin" succeed for one attempt only.
//! * **At most once.** A redelivered message whose request is EXECUTING under
//!   another attempt means that attempt died mid-action: the action may or may not
//!   have happened, so it is not run again; the request is marked FAILED
//!   ("interrupted") for a person to check. A redelivery after EXECUTED / FAILED is
//!   deleted without running anything.
//! * **Rejections are recorded, never executed.**
//! * The message is deleted only once the outcome is recorded (or the API itself
//!   says there is nothing to do); otherwise it comes back (and after the queue's
//!   `maxReceiveCount`, goes to its DLQ).
//! * **An unavailable API loses nothing and burns no receives.** A call that fails
//!   as an outage (see [`ApiCallError::is_outage`]) is retried a few times; then the
//!   breaker ([`crate::health`]) opens and the message waits in hand, kept invisible
//!   by its heartbeat, until the API answers again: receives are not counted
//!   towards the DLQ, and an action that ran still gets its true outcome recorded.
//! * **An outcome is never lost to a failed report.** Once the action ran, its
//!   outcome is written to the state directory ([`crate::outcomes`]: atomic, fsynced)
//!   before it is reported, and removed once the API has it. If the report does not
//!   get through (the processor stops while the API is down, a proxy refuses it, a
//!   crash), the message comes back and the next attempt — in this process or after
//!   a restart — reports the stored outcome under the attempt that ran it, instead of
//!   beginning: the request ends EXECUTED / FAILED with the true output, not FAILED
//!   "interrupted" (which invites a person to run the action twice).

use std::future::Future;
use std::time::Duration;

use approvals::messages::DecisionMade;
use approvals::Decision;
use chrono::Utc;
use kit::error::chain;
use kit::{Classify, Envelope, ErrorClass, Message};
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn, Instrument};

use crate::api::{ApiCallError, ApprovalApi, Begin, Outcome, Recorded};
use crate::executor::Executor;
use crate::health::ApiHealth;
use crate::outcomes::{OutcomeStore, StoredOutcome};
use crate::source::Received;

/// What to do with the message afterwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    /// Handled (or nothing to do): delete it.
    Delete,
    /// Not started (shutting down): make it visible again at once.
    Release,
    /// Try again later: visible again after this long.
    RetryIn(Duration),
}

/// Attempts per API call before the message is left to come back.
const API_ATTEMPTS: u32 = 4;
/// Attempts to record an outcome once the action ran: worth waiting for.
const FINISH_ATTEMPTS: u32 = 8;

/// Backoff for a message that comes back: 30 s per receive so far, at most 15 min.
pub fn retry_delay(receive_count: u32) -> Duration {
    Duration::from_secs((30 * u64::from(receive_count.max(1))).min(900))
}

/// Per-attempt settings.
pub struct Handling<'a> {
    pub attempt_id: &'a str,
    /// Fires when the processor stops taking work (SIGTERM).
    pub shutdown: &'a CancellationToken,
    /// Fires when a message waiting for the API before anything ran must be given
    /// back: at shutdown, or once it has been held as long as SQS can keep it
    /// invisible (12 hours from its receive).
    pub give_back: &'a CancellationToken,
    /// Fires when in-flight work must stop too (shutdown grace over).
    pub stop: &'a CancellationToken,
    /// Fires when the report of an action that ran must stop waiting for the API:
    /// the shutdown grace is over, or the message has been held as long as SQS can
    /// keep it invisible. The outcome stays on disk for the next attempt.
    pub report_by: &'a CancellationToken,
    /// Where outcomes wait until the API has them.
    pub outcomes: &'a OutcomeStore,
    /// Pause before the n-th retry of an API call (tests: zero).
    pub api_backoff: Duration,
    /// The breaker: opened by an outage, closed by the API's next answer.
    pub health: &'a ApiHealth,
}

/// The decision in a message body (a kit envelope), or why it is not one.
pub fn decode(body: &str) -> Result<Envelope<DecisionMade>, String> {
    let raw: Envelope<Value> =
        serde_json::from_str(body).map_err(|e| format!("not an envelope: {}", kit::decode::redacted(&e)))?;
    if raw.kind != DecisionMade::TYPE || raw.version != DecisionMade::VERSION {
        return Err(format!("unexpected message {} v{}", kit::decode::type_in_reason(&raw.kind), raw.version));
    }
    let payload: DecisionMade = serde_json::from_value(raw.payload.clone())
        .map_err(|e| format!("bad payload: {}", kit::decode::redacted(&e)))?;
    Ok(Envelope {
        kind: raw.kind,
        version: raw.version,
        id: raw.id,
        workflow_id: raw.workflow_id,
        correlation_id: raw.correlation_id,
        occurred_at: raw.occurred_at,
        payload,
    })
}

/// Calls `f` until it gets an answer or fails permanently. A blip (an outage error)
/// is retried `attempts` times with backoff; a longer outage opens the breaker and
/// waits for the API to answer again — as long as it takes — unless `cancel` fires
/// first, which gives the error back.
async fn retrying<T, F, Fut>(
    what: &str,
    attempts: u32,
    h: &Handling<'_>,
    cancel: &CancellationToken,
    mut f: F,
) -> Result<T, ApiCallError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ApiCallError>>,
{
    let mut n = 0;
    loop {
        n += 1;
        match f().await {
            Ok(v) => {
                h.health.answered();
                return Ok(v);
            }
            // Another task already found the API down: no point in quick retries.
            Err(e) if e.is_outage() && n < attempts && h.health.is_up() && !cancel.is_cancelled() => {
                warn!(error = %chain(&e), attempt = n, "{what} failed; retrying");
                tokio::select! {
                    () = tokio::time::sleep(h.api_backoff * 2u32.pow(n - 1)) => {}
                    () = cancel.cancelled() => {}
                }
            }
            Err(e) if e.is_outage() => {
                h.health.failed(&e);
                warn!(error = %chain(&e), "{what} failed: waiting for the approval API, the message kept in hand");
                if !h.health.wait_up(cancel).await {
                    return Err(e);
                }
                n = 0;
            }
            Err(e) => {
                // Not an outage: an answer of the API's own (a 400, an unreadable body).
                h.health.answered();
                return Err(e);
            }
        }
    }
}

/// What becomes of a message whose API call gave up with nothing running (not
/// begun, or the outcome kept on disk): handed straight back if the processor is
/// stopping, otherwise later (while the API is down the poll loop does not receive
/// it, so no receive is spent).
fn not_begun(h: &Handling<'_>, later: Disposition) -> Disposition {
    if h.shutdown.is_cancelled() {
        Disposition::Release
    } else {
        later
    }
}

pub async fn handle<A: ApprovalApi, E: Executor>(
    api: &A,
    executor: &E,
    msg: &Received,
    h: &Handling<'_>,
) -> Disposition {
    let later = Disposition::RetryIn(retry_delay(msg.receive_count));
    let envelope = match decode(&msg.body) {
        Ok(e) => e,
        Err(why) => {
            // Left to come back; after maxReceiveCount the redrive policy moves it to the DLQ.
            error!(reason = %why, receive_count = msg.receive_count, "not a decision message");
            return later;
        }
    };
    let id = envelope.payload.request_id.as_str();
    let span = tracing::error_span!("decision", request_id = %id, correlation_id = %envelope.correlation_id, attempt_id = %h.attempt_id);
    decided(api, executor, &envelope, h, later).instrument(span).await
}

async fn decided<A: ApprovalApi, E: Executor>(
    api: &A,
    executor: &E,
    envelope: &Envelope<DecisionMade>,
    h: &Handling<'_>,
    later: Disposition,
) -> Disposition {
    let id = envelope.payload.request_id.as_str();
    if h.shutdown.is_cancelled() {
        return Disposition::Release;
    }
    match envelope.payload.decision {
        Decision::Rejected => {
            let record = || api.record_rejection(id, h.attempt_id);
            match retrying("recording the rejection", API_ATTEMPTS, h, h.give_back, record).await {
                Ok(Recorded::Yes) => {
                    info!("rejected: recorded, nothing executed");
                    Disposition::Delete
                }
                Ok(other) => {
                    error!(answer = ?other, "a rejection the API does not know as such; dropped");
                    Disposition::Delete
                }
                Err(e) => {
                    warn!(error = %chain(&e), "could not record the rejection; the message comes back");
                    not_begun(h, later)
                }
            }
        }
        Decision::Approved => approved(api, executor, id, h, later).await,
    }
}

async fn approved<A: ApprovalApi, E: Executor>(
    api: &A,
    executor: &E,
    id: &str,
    h: &Handling<'_>,
    later: Disposition,
) -> Disposition {
    // An outcome an earlier attempt could not report: report it, never begin again.
    match h.outcomes.load(id).await {
        Ok(Some(stored)) => {
            info!(ran_as = %stored.attempt_id, outcome = ?stored.outcome, "reporting the outcome kept on disk; nothing run");
            // Nothing runs: at shutdown it is handed back at once, still on disk.
            return report(api, &stored, true, h, h.give_back, later).await;
        }
        Ok(None) => {}
        Err(e) if e.class() == ErrorClass::Retryable => {
            error!(error = %chain(&e), reason = e.kind(), "cannot read the state directory; nothing run; the message comes back");
            return not_begun(h, later);
        }
        Err(e) => {
            // Moved aside for a person. The API's state decides, as without a store: an
            // EXECUTING request becomes "interrupted", never run twice.
            error!(error = %chain(&e), reason = e.kind(), "a stored outcome could not be read");
        }
    }
    // Waits for an outage to end unless the processor is stopping: nothing has run.
    let begin =
        match retrying("recording EXECUTING", API_ATTEMPTS, h, h.give_back, || api.begin(id, h.attempt_id)).await {
            Ok(b) => b,
            Err(e) => {
                warn!(error = %chain(&e), "could not record EXECUTING; nothing run; the message comes back");
                return not_begun(h, later);
            }
        };
    match begin {
        Begin::Run(action) => {
            info!(action = %action.action, "executing");
            let result = executor.execute(&action, h.stop.clone()).await;
            let outcome = if result.succeeded { Outcome::Executed } else { Outcome::Failed };
            let stored = StoredOutcome {
                request_id: id.to_owned(),
                attempt_id: h.attempt_id.to_owned(),
                outcome,
                output: result.output,
                finished_at: Utc::now(),
            };
            // On disk before the report: whatever becomes of the report, the outcome is
            // not lost with this process.
            let kept = match h.outcomes.save(&stored).await {
                Ok(()) => true,
                Err(e) => {
                    error!(error = %chain(&e), reason = e.kind(), outcome = ?outcome, "could not keep the outcome on disk; reporting it from memory only");
                    false
                }
            };
            // The action ran: its true outcome is worth waiting for through an outage
            // (until the shutdown grace runs out), rather than handing it back early.
            report(api, &stored, kept, h, h.report_by, later).await
        }
        Begin::Interrupted { attempt_id } => {
            warn!(interrupted_attempt = %attempt_id, "an earlier attempt began and never reported; not running it again");
            let output = format!(
                "interrupted: attempt {attempt_id} recorded EXECUTING and never reported an outcome (the processor \
                 stopped mid-action). The action may or may not have run; it was not run again (at-most-once). \
                 Check the target system."
            );
            match retrying("recording the interruption", API_ATTEMPTS, h, h.give_back, || {
                api.finish(id, &attempt_id, Outcome::Failed, &output)
            })
            .await
            {
                Ok(_) => Disposition::Delete,
                Err(e) => {
                    warn!(error = %chain(&e), "could not record the interruption; the message comes back");
                    not_begun(h, later)
                }
            }
        }
        Begin::Finished { status } => {
            info!(status = %status, "already finished: a redelivery; nothing run");
            Disposition::Delete
        }
        Begin::NotApproved { status } => {
            error!(status = %status, "a decision message for a request that is not approved; nothing run");
            Disposition::Delete
        }
        Begin::NotFound => {
            // The API's own answer (request_not_found), never a gateway's bare 404.
            warn!("the approval API has no such request (removed after its retention?); nothing run");
            Disposition::Delete
        }
    }
}

/// Reports an action's outcome under the attempt that ran it; forgets the stored
/// copy once the API has it (or refuses it for good). `kept`: it is on disk, so a
/// report that does not get through is left to the next attempt.
async fn report<A: ApprovalApi>(
    api: &A,
    stored: &StoredOutcome,
    kept: bool,
    h: &Handling<'_>,
    cancel: &CancellationToken,
    later: Disposition,
) -> Disposition {
    let StoredOutcome { request_id: id, attempt_id, outcome, output, .. } = stored;
    let recorded =
        retrying("recording the outcome", FINISH_ATTEMPTS, h, cancel, || api.finish(id, attempt_id, *outcome, output))
            .await;
    match recorded {
        Ok(Recorded::Yes) => {
            info!(outcome = ?outcome, "outcome recorded");
            forget(h.outcomes, id).await;
            Disposition::Delete
        }
        Ok(other) => {
            error!(answer = ?other, outcome = ?outcome, ran_as = %attempt_id, "the API refused the outcome; dropped");
            forget(h.outcomes, id).await;
            Disposition::Delete
        }
        Err(e) if kept => {
            warn!(error = %chain(&e), outcome = ?outcome, "the outcome could not be recorded yet: kept on disk, the next attempt reports it");
            not_begun(h, later)
        }
        Err(e) => {
            // Neither recorded nor kept: the redelivery finds EXECUTING under this
            // attempt and reports it interrupted — at most once, never twice.
            error!(error = %chain(&e), outcome = ?outcome, "the action ran but its outcome could not be recorded");
            later
        }
    }
}

/// Removes a reported outcome. Failing that, it is only reported again by a later
/// attempt, which the API answers as already recorded.
async fn forget(outcomes: &OutcomeStore, id: &str) {
    if let Err(e) = outcomes.remove(id).await {
        error!(error = %chain(&e), reason = e.kind(), "the outcome is recorded but its stored copy could not be removed");
    }
}

#[cfg(test)]
mod tests;
