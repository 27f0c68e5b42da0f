//! The poll loop: long-poll for as many messages as there are free slots, handle
//! each on its own task with a visibility heartbeat, settle it (delete, release or
//! retry later). On shutdown: no new polls; an in-flight poll is allowed to return
//! and what it returns is released at once; running actions get `grace` to finish,
//! then are told to stop (they report FAILED "stopped") — either way every message
//! is settled before the process exits.
//!
//! While the approval API is down (the breaker in [`crate::health`] is open) the
//! loop receives nothing — each receive would count towards the DLQ — and probes
//! the API with capped exponential backoff instead; it polls again once the API
//! answers. Messages in hand wait for it, kept invisible by their heartbeats.
//!
//! Two messages of one FIFO message group (one request: a decision re-announced
//! after SQS's 5-minute deduplication window, both handed out by one receive) are
//! never handled at once: each waits, in hand, until the one before it in its group
//! is settled, then finds the request's state (EXECUTED, …) and runs nothing. Run at
//! once, the second would find the first's attempt EXECUTING, mark it "interrupted"
//! while it still ran, and the first's true outcome would be refused.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use kit::backoff::Backoff;
use kit::error::chain;
use kit::Classify;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn, Instrument};

use crate::api::ApprovalApi;
use crate::executor::Executor;
use crate::health::ApiHealth;
use crate::outcomes::OutcomeStore;
use crate::process::{handle, retry_delay, Disposition, Handling};
use crate::source::{DecisionSource, Received};

#[derive(Debug, Clone)]
pub struct RunSettings {
    pub visibility: Duration,
    pub wait: Duration,
    pub max_in_flight: usize,
    pub shutdown_grace: Duration,
    /// Pause before retrying a failed API call within one attempt (doubles each time).
    pub api_backoff: Duration,
    /// Spacing of the probes while the API is down.
    pub api_probe: Backoff,
    /// Pause after a failed poll of the queue.
    pub poll_backoff: Duration,
    /// How long a message may wait in hand for the API before it is given back:
    /// SQS keeps a message invisible for at most 12 hours after its receive.
    pub max_hold: Duration,
    /// Where the outcomes of actions that ran wait until the API has them.
    pub outcomes: OutcomeStore,
}

fn secs(d: Duration) -> i32 {
    i32::try_from(d.as_secs()).unwrap_or(i32::MAX)
}

/// Runs until `shutdown` fires, then settles everything in flight and returns.
/// `health` is the API breaker, shared so the caller can report it.
pub async fn run<Q, A, E>(
    source: Arc<Q>,
    api: Arc<A>,
    executor: Arc<E>,
    health: Arc<ApiHealth>,
    settings: RunSettings,
    shutdown: CancellationToken,
) where
    Q: DecisionSource,
    A: ApprovalApi,
    E: Executor,
{
    let stop = CancellationToken::new();
    let slots = Arc::new(Semaphore::new(settings.max_in_flight));
    let mut tasks = JoinSet::new();
    // Per message group, the last message handed to a task: cancelled once settled.
    let mut last_of_group: HashMap<String, CancellationToken> = HashMap::new();
    info!(max_in_flight = settings.max_in_flight, "polling for decisions");
    loop {
        if shutdown.is_cancelled() {
            break;
        }
        if !health.is_up() {
            probe_until_answered(api.as_ref(), &health, settings.api_probe, &shutdown).await;
            while tasks.try_join_next().is_some() {}
            continue;
        }
        let first = tokio::select! {
            // Shutdown first: a free slot is always ready too, and must not win the draw.
            biased;
            () = shutdown.cancelled() => break,
            // Every slot may be held by a message waiting for the API: probe meanwhile.
            () = health.until_down() => continue,
            permit = slots.clone().acquire_owned() => match permit { Ok(p) => p, Err(_) => break },
        };
        let mut permits = vec![first];
        while let Ok(p) = slots.clone().try_acquire_owned() {
            permits.push(p);
        }
        if !health.is_up() {
            // Went down as the slots freed up: what we would receive would only wait.
            continue;
        }
        // Not raced against shutdown: a dropped poll could have taken messages with it.
        let received = source.receive(permits.len(), secs(settings.wait), secs(settings.visibility)).await;
        let messages = match received {
            Ok(m) => m,
            Err(e) => {
                warn!(error = %chain(&e), "could not poll the decisions queue");
                tokio::select! {
                    () = tokio::time::sleep(settings.poll_backoff) => {}
                    () = shutdown.cancelled() => {}
                }
                continue;
            }
        };
        last_of_group.retain(|_, settled| !settled.is_cancelled());
        for (msg, permit) in messages.into_iter().zip(permits) {
            let (source, api, executor, health) = (source.clone(), api.clone(), executor.clone(), health.clone());
            let (shutdown, stop, settings) = (shutdown.clone(), stop.clone(), settings.clone());
            // Chained here, in receive order, so a group's messages take turns in order.
            let settled = CancellationToken::new();
            let before = last_of_group.insert(msg.group().to_owned(), settled.clone());
            tasks.spawn(async move {
                // Cancelled when this task ends, however it ends: the next one's turn.
                let _settled = settled.drop_guard();
                let ctx = Ctx { settings: &settings, health: &health, shutdown: &shutdown, stop: &stop };
                one(source.as_ref(), api.as_ref(), executor.as_ref(), msg, before, &ctx).await;
                drop(permit);
            });
        }
        while tasks.try_join_next().is_some() {}
    }

    info!(in_flight = tasks.len(), "shutting down: no new polls");
    let drained =
        tokio::time::timeout(settings.shutdown_grace, async { while tasks.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        warn!(in_flight = tasks.len(), "shutdown grace over: stopping the running actions");
        stop.cancel();
        while tasks.join_next().await.is_some() {}
    }
    info!("stopped");
}

/// Probes the API, spaced by `backoff` (doubling, capped), until it answers, a
/// message task finds it answering, or shutdown. Each failed probe is an ERROR:
/// an outage must be seen for as long as it lasts.
async fn probe_until_answered<A: ApprovalApi>(
    api: &A,
    health: &ApiHealth,
    backoff: Backoff,
    shutdown: &CancellationToken,
) {
    let mut n = 0u32;
    while !health.is_up() {
        n = n.saturating_add(1);
        let wait = backoff.ceiling(n);
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = health.until_up() => return,
            () = shutdown.cancelled() => return,
        }
        match api.probe().await {
            Ok(()) => health.answered(),
            Err(e) => {
                health.failed(&e);
                error!(
                    api_unavailable = true,
                    reason = e.kind(),
                    error = %chain(&e),
                    probe = n,
                    next_probe_in_ms = u64::try_from(backoff.ceiling(n.saturating_add(1)).as_millis()).unwrap_or(u64::MAX),
                    "the approval API is still unavailable: polling stays paused"
                );
            }
        }
    }
}

/// What every message task shares.
struct Ctx<'a> {
    settings: &'a RunSettings,
    health: &'a ApiHealth,
    shutdown: &'a CancellationToken,
    stop: &'a CancellationToken,
}

/// Handles one message with a heartbeat keeping it invisible, then settles it.
/// `before`: the previous message of its group, settled when cancelled; this one
/// waits for it (in hand, invisible) before anything else.
async fn one<Q: DecisionSource, A: ApprovalApi, E: Executor>(
    source: &Q,
    api: &A,
    executor: &E,
    msg: Received,
    before: Option<CancellationToken>,
    ctx: &Ctx<'_>,
) {
    let Ctx { settings, health, shutdown, stop } = ctx;
    // A fresh attempt id per receive: a redelivery is a new attempt, which is what
    // lets the API tell "this attempt's answer was lost" from "an attempt died".
    let attempt_id = uuid::Uuid::new_v4().to_string();
    let span = tracing::error_span!("message", message_id = %msg.message_id, receive_count = msg.receive_count);
    async {
        let give_back = shutdown.child_token();
        let report_by = stop.child_token();
        let handling = Handling {
            attempt_id: &attempt_id,
            shutdown,
            give_back: &give_back,
            stop,
            report_by: &report_by,
            outcomes: &settings.outcomes,
            api_backoff: settings.api_backoff,
            health,
        };
        let beat = heartbeat(source, &msg.receipt, settings.visibility);
        // Past the hold limit the heartbeat could no longer hide the message: it would
        // show up for another receive while this task still waits with it.
        let hold_limit = async {
            tokio::time::sleep(settings.max_hold).await;
            give_back.cancel();
            report_by.cancel();
            std::future::pending::<()>().await
        };
        let work = async {
            if let Some(before) = &before {
                info!("waiting for the message before it in its group to be settled");
                tokio::select! {
                    () = before.cancelled() => {}
                    // Nothing begun: handed back (at once when stopping).
                    () = give_back.cancelled() => {
                        return if shutdown.is_cancelled() {
                            Disposition::Release
                        } else {
                            Disposition::RetryIn(retry_delay(msg.receive_count))
                        };
                    }
                }
            }
            handle(api, executor, &msg, &handling).await
        };
        let disposition = tokio::select! {
            d = work => d,
            () = beat => unreachable_heartbeat(),
            () = hold_limit => unreachable_heartbeat(),
        };
        settle(source, &msg, disposition).await;
    }
    .instrument(span)
    .await
}

/// Renews the message's visibility every third of it, forever (dropped when done).
async fn heartbeat<Q: DecisionSource>(source: &Q, receipt: &str, visibility: Duration) {
    let every = (visibility / 3).max(Duration::from_millis(500));
    loop {
        tokio::time::sleep(every).await;
        if let Err(e) = source.set_visibility(receipt, secs(visibility)).await {
            warn!(error = %chain(&e), "could not renew the message's visibility");
        }
    }
}

fn unreachable_heartbeat() -> Disposition {
    // The heartbeat loops forever; if it ever returned, let the message come back.
    Disposition::RetryIn(Duration::from_secs(30))
}

async fn settle<Q: DecisionSource>(source: &Q, msg: &Received, disposition: Disposition) {
    let result = match &disposition {
        Disposition::Delete => source.delete(&msg.receipt).await,
        Disposition::Release => source.set_visibility(&msg.receipt, 0).await,
        Disposition::RetryIn(after) => source.set_visibility(&msg.receipt, secs(*after)).await,
    };
    if let Err(e) = result {
        // The message comes back after its visibility timeout; the next attempt finds
        // the outcome recorded (or EXECUTING: interrupted) and does not run it twice.
        warn!(message_id = %msg.message_id, error = %chain(&e), ?disposition, "could not settle the message");
    }
}

#[cfg(test)]
mod outage_tests;

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use async_trait::async_trait;

    use super::*;
    use crate::api::{Action, ApiCallError, Begin, Outcome, Recorded};
    use crate::executor::Execution;
    use crate::source::SourceError;

    /// A queue holding one approved decision, recording what happens to it.
    #[derive(Default)]
    struct OneMessage {
        handed_out: Mutex<bool>,
        settled: Mutex<Vec<String>>,
    }

    #[async_trait]
    impl DecisionSource for OneMessage {
        async fn receive(&self, _max: usize, _wait: i32, _vis: i32) -> Result<Vec<Received>, SourceError> {
            let first = !std::mem::replace(&mut *self.handed_out.lock().unwrap(), true);
            if !first {
                tokio::time::sleep(Duration::from_millis(20)).await;
                return Ok(vec![]);
            }
            let body = serde_json::json!({
                "type": "approval.decision", "version": 1, "id": "x", "workflow_id": "r1", "correlation_id": "c",
                "occurred_at": "2024-06-01T12:00:00Z",
                "payload": {"request_id": "r1", "decision": "APPROVED", "decided_at": "2024-06-01T12:00:00Z"},
            });
            Ok(vec![Received {
                message_id: "m1".into(),
                receipt: "rh".into(),
                body: body.to_string(),
                receive_count: 1,
                group_id: Some("r1".into()),
            }])
        }
        async fn delete(&self, _r: &str) -> Result<(), SourceError> {
            self.settled.lock().unwrap().push("deleted".into());
            Ok(())
        }
        async fn set_visibility(&self, _r: &str, secs: i32) -> Result<(), SourceError> {
            self.settled.lock().unwrap().push(format!("visibility {secs}"));
            Ok(())
        }
    }

    struct Api;

    #[async_trait]
    impl ApprovalApi for Api {
        async fn begin(&self, id: &str, _a: &str) -> Result<Begin, ApiCallError> {
            Ok(Begin::Run(Action {
                request_id: id.into(),
                issue_id: "I".into(),
                action: "a".into(),
                parameters: serde_json::json!({}),
            }))
        }
        async fn finish(&self, _: &str, _: &str, o: Outcome, out: &str) -> Result<Recorded, ApiCallError> {
            assert_eq!(o, Outcome::Failed);
            assert!(out.starts_with("stopped"), "{out}");
            Ok(Recorded::Yes)
        }
        async fn record_rejection(&self, _: &str, _: &str) -> Result<Recorded, ApiCallError> {
            Ok(Recorded::Yes)
        }
        async fn probe(&self) -> Result<(), ApiCallError> {
            Ok(())
        }
    }

    /// Runs until told to stop.
    struct Hangs;

    #[async_trait]
    impl Executor for Hangs {
        async fn execute(&self, _a: &Action, stop: CancellationToken) -> Execution {
            stop.cancelled().await;
            Execution::new(false, "stopped: told to")
        }
    }

    #[tokio::test]
    async fn at_shutdown_a_running_action_gets_its_grace_then_is_stopped_reported_and_settled() {
        let source = Arc::new(OneMessage::default());
        let shutdown = CancellationToken::new();
        let settings = RunSettings {
            visibility: Duration::from_secs(3),
            wait: Duration::ZERO,
            max_in_flight: 2,
            shutdown_grace: Duration::from_millis(200),
            api_backoff: Duration::ZERO,
            api_probe: Backoff { base: Duration::from_millis(10), max: Duration::from_millis(10) },
            poll_backoff: Duration::from_millis(10),
            max_hold: Duration::from_secs(3600),
            outcomes: crate::outcomes::tests::temp_store(),
        };
        let health = Arc::new(ApiHealth::new());
        let runner =
            tokio::spawn(run(source.clone(), Arc::new(Api), Arc::new(Hangs), health, settings, shutdown.clone()));
        while !*source.handed_out.lock().unwrap() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(5), runner).await.expect("stops within the grace").unwrap();
        assert_eq!(source.settled.lock().unwrap().last().map(String::as_str), Some("deleted"));
    }
}
