//! The processor's promises for one message, over a fake API that keeps the same
//! state machine as the real one.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;

use async_trait::async_trait;
use serde_json::json;

use super::*;
use crate::api::Action;
use crate::executor::Execution;

#[derive(Default)]
struct FakeApi {
    /// (status, attempt that began)
    state: Mutex<(String, Option<String>, Option<String>)>,
    unavailable_for: AtomicU32,
}

impl FakeApi {
    fn with(status: &str, attempt: Option<&str>) -> Self {
        Self { state: Mutex::new((status.into(), attempt.map(str::to_owned), None)), ..Default::default() }
    }
    fn status(&self) -> (String, Option<String>) {
        let s = self.state.lock().unwrap();
        (s.0.clone(), s.2.clone())
    }
    fn down(&self) -> Result<(), ApiCallError> {
        if self.unavailable_for.load(Ordering::SeqCst) > 0 {
            self.unavailable_for.fetch_sub(1, Ordering::SeqCst);
            return Err(ApiCallError::Transport("down".into()));
        }
        Ok(())
    }
}

#[async_trait]
impl ApprovalApi for FakeApi {
    async fn begin(&self, request_id: &str, attempt_id: &str) -> Result<Begin, ApiCallError> {
        self.down()?;
        let mut s = self.state.lock().unwrap();
        Ok(match (s.0.as_str(), s.1.clone()) {
            ("APPROVED", _) => {
                *s = ("EXECUTING".into(), Some(attempt_id.into()), None);
                Begin::Run(Action {
                    request_id: request_id.into(),
                    issue_id: "I-1".into(),
                    action: "restart".into(),
                    parameters: json!({}),
                })
            }
            ("EXECUTING", Some(a)) if a != attempt_id => Begin::Interrupted { attempt_id: a },
            ("EXECUTED" | "FAILED", _) => Begin::Finished { status: s.0.clone() },
            (other, _) => Begin::NotApproved { status: other.into() },
        })
    }
    async fn finish(
        &self,
        _: &str,
        attempt_id: &str,
        outcome: Outcome,
        output: &str,
    ) -> Result<Recorded, ApiCallError> {
        self.down()?;
        let mut s = self.state.lock().unwrap();
        if s.0 != "EXECUTING" || s.1.as_deref() != Some(attempt_id) {
            return Ok(Recorded::Conflict { status: s.0.clone() });
        }
        s.0 = if outcome == Outcome::Executed { "EXECUTED" } else { "FAILED" }.into();
        s.2 = Some(output.into());
        Ok(Recorded::Yes)
    }
    async fn record_rejection(&self, _: &str, _: &str) -> Result<Recorded, ApiCallError> {
        self.down()?;
        let mut s = self.state.lock().unwrap();
        if s.0 != "REJECTED" {
            return Ok(Recorded::Conflict { status: s.0.clone() });
        }
        s.2 = Some("recorded".into());
        Ok(Recorded::Yes)
    }
    async fn probe(&self) -> Result<(), ApiCallError> {
        self.down()
    }
}

#[derive(Default)]
struct CountingExecutor {
    runs: AtomicU32,
}

#[async_trait]
impl Executor for CountingExecutor {
    async fn execute(&self, _action: &Action, _stop: CancellationToken) -> Execution {
        self.runs.fetch_add(1, Ordering::SeqCst);
        Execution::new(true, "done")
    }
}

fn message(decision: &str, receive_count: u32) -> Received {
    let body = json!({
        "type": "approval.decision", "version": 1, "id": "approval.decision:r1", "workflow_id": "r1",
        "correlation_id": "c1", "occurred_at": "2024-06-01T12:00:00Z",
        "payload": {"request_id": "r1", "decision": decision, "decided_at": "2024-06-01T12:00:00Z"},
    });
    Received {
        message_id: "m1".into(),
        receipt: "rh".into(),
        body: body.to_string(),
        receive_count,
        group_id: Some("r1".into()),
    }
}

async fn run(api: &FakeApi, executor: &CountingExecutor, msg: &Received, attempt: &str) -> Disposition {
    let (shutdown, stop, health) = (CancellationToken::new(), CancellationToken::new(), ApiHealth::new());
    let outcomes = crate::outcomes::tests::temp_store();
    let h = Handling {
        attempt_id: attempt,
        shutdown: &shutdown,
        give_back: &shutdown,
        stop: &stop,
        report_by: &stop,
        outcomes: &outcomes,
        api_backoff: Duration::ZERO,
        health: &health,
    };
    handle(api, executor, msg, &h).await
}

/// Polls `cond` every 5 ms until it holds; panics after 5 s.
async fn eventually(what: &str, cond: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !cond() {
        assert!(tokio::time::Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn an_approved_action_is_begun_run_once_and_recorded_then_deleted() {
    let (api, exec) = (FakeApi::with("APPROVED", None), CountingExecutor::default());
    assert_eq!(run(&api, &exec, &message("APPROVED", 1), "a1").await, Disposition::Delete);
    assert_eq!(exec.runs.load(Ordering::SeqCst), 1);
    assert_eq!(api.status(), ("EXECUTED".into(), Some("done".into())));
}

#[tokio::test]
async fn a_redelivery_after_the_outcome_runs_nothing() {
    let (api, exec) = (FakeApi::with("EXECUTED", Some("a1")), CountingExecutor::default());
    assert_eq!(run(&api, &exec, &message("APPROVED", 2), "a2").await, Disposition::Delete);
    assert_eq!(exec.runs.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_redelivery_after_a_crash_mid_action_is_failed_as_interrupted_not_rerun() {
    let (api, exec) = (FakeApi::with("EXECUTING", Some("crashed")), CountingExecutor::default());
    assert_eq!(run(&api, &exec, &message("APPROVED", 2), "a2").await, Disposition::Delete);
    assert_eq!(exec.runs.load(Ordering::SeqCst), 0, "at most once");
    let (status, output) = api.status();
    assert_eq!(status, "FAILED");
    assert!(output.unwrap().starts_with("interrupted: attempt crashed"));
}

#[tokio::test]
async fn a_rejection_is_recorded_and_never_executed() {
    let (api, exec) = (FakeApi::with("REJECTED", None), CountingExecutor::default());
    assert_eq!(run(&api, &exec, &message("REJECTED", 1), "a1").await, Disposition::Delete);
    assert_eq!(exec.runs.load(Ordering::SeqCst), 0);
    assert_eq!(api.status(), ("REJECTED".into(), Some("recorded".into())));
}

#[tokio::test]
async fn an_unreachable_api_runs_nothing_opens_the_breaker_and_keeps_the_message_until_shutdown() {
    let (api, exec) = (FakeApi::with("APPROVED", None), CountingExecutor::default());
    api.unavailable_for.store(API_ATTEMPTS, Ordering::SeqCst);
    let (shutdown, stop, health) = (CancellationToken::new(), CancellationToken::new(), ApiHealth::new());
    let outcomes = crate::outcomes::tests::temp_store();
    let h = Handling {
        attempt_id: "a1",
        shutdown: &shutdown,
        give_back: &shutdown,
        stop: &stop,
        report_by: &stop,
        outcomes: &outcomes,
        api_backoff: Duration::ZERO,
        health: &health,
    };
    let msg = message("APPROVED", 3);
    let (disposition, ()) = tokio::join!(handle(&api, &exec, &msg, &h), async {
        eventually("the breaker opens", || !health.is_up()).await;
        assert_eq!(exec.runs.load(Ordering::SeqCst), 0);
        shutdown.cancel();
    });
    assert_eq!(disposition, Disposition::Release, "handed back as the processor stops, never deleted");
    assert_eq!(exec.runs.load(Ordering::SeqCst), 0);
    assert_eq!(api.status().0, "APPROVED");
}

#[tokio::test]
async fn a_message_waiting_through_an_outage_runs_once_when_the_api_answers_again() {
    let (api, exec) = (FakeApi::with("APPROVED", None), CountingExecutor::default());
    api.unavailable_for.store(API_ATTEMPTS, Ordering::SeqCst);
    let (shutdown, stop, health) = (CancellationToken::new(), CancellationToken::new(), ApiHealth::new());
    let outcomes = crate::outcomes::tests::temp_store();
    let h = Handling {
        attempt_id: "a1",
        shutdown: &shutdown,
        give_back: &shutdown,
        stop: &stop,
        report_by: &stop,
        outcomes: &outcomes,
        api_backoff: Duration::ZERO,
        health: &health,
    };
    let msg = message("APPROVED", 1);
    let (disposition, ()) = tokio::join!(handle(&api, &exec, &msg, &h), async {
        eventually("the breaker opens", || !health.is_up()).await;
        // What the poll loop's probe does once the API answers.
        health.answered();
    });
    assert_eq!(disposition, Disposition::Delete);
    assert_eq!(exec.runs.load(Ordering::SeqCst), 1);
    assert_eq!(api.status(), ("EXECUTED".into(), Some("done".into())));
}

/// Runs the action, then takes the API down before the outcome is recorded.
struct DownAfterRun<'a> {
    api: &'a FakeApi,
    runs: AtomicU32,
}

#[async_trait]
impl Executor for DownAfterRun<'static> {
    async fn execute(&self, _action: &Action, _stop: CancellationToken) -> Execution {
        self.runs.fetch_add(1, Ordering::SeqCst);
        self.api.unavailable_for.store(FINISH_ATTEMPTS, Ordering::SeqCst);
        Execution::new(true, "done")
    }
}

#[tokio::test]
async fn an_outage_after_the_action_ran_waits_and_records_the_true_outcome_not_interrupted() {
    let api: &'static FakeApi = Box::leak(Box::new(FakeApi::with("APPROVED", None)));
    let exec = DownAfterRun { api, runs: AtomicU32::new(0) };
    let (shutdown, stop, health) = (CancellationToken::new(), CancellationToken::new(), ApiHealth::new());
    let outcomes = crate::outcomes::tests::temp_store();
    let h = Handling {
        attempt_id: "a1",
        shutdown: &shutdown,
        give_back: &shutdown,
        stop: &stop,
        report_by: &stop,
        outcomes: &outcomes,
        api_backoff: Duration::ZERO,
        health: &health,
    };
    let msg = message("APPROVED", 1);
    let (disposition, ()) = tokio::join!(handle(api, &exec, &msg, &h), async {
        eventually("the breaker opens", || !health.is_up()).await;
        // Stopping takes work no new work, but an action that ran waits for its record.
        shutdown.cancel();
        health.answered();
    });
    assert_eq!(disposition, Disposition::Delete);
    assert_eq!(exec.runs.load(Ordering::SeqCst), 1);
    assert_eq!(api.status(), ("EXECUTED".into(), Some("done".into())));
}

#[tokio::test]
async fn a_brief_api_outage_is_ridden_out_within_the_attempt() {
    let (api, exec) = (FakeApi::with("APPROVED", None), CountingExecutor::default());
    api.unavailable_for.store(2, Ordering::SeqCst);
    assert_eq!(run(&api, &exec, &message("APPROVED", 1), "a1").await, Disposition::Delete);
    assert_eq!(exec.runs.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_poison_message_comes_back_until_the_redrive_moves_it() {
    let (api, exec) = (FakeApi::with("APPROVED", None), CountingExecutor::default());
    let mut msg = message("APPROVED", 2);
    msg.body = r#"{"type":"approval.decision","version":9}"#.into();
    assert_eq!(run(&api, &exec, &msg, "a1").await, Disposition::RetryIn(retry_delay(2)));
    assert_eq!(exec.runs.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_message_received_as_shutdown_began_is_released_untouched() {
    let (api, exec) = (FakeApi::with("APPROVED", None), CountingExecutor::default());
    let (shutdown, stop) = (CancellationToken::new(), CancellationToken::new());
    shutdown.cancel();
    let health = ApiHealth::new();
    let outcomes = crate::outcomes::tests::temp_store();
    let h = Handling {
        attempt_id: "a1",
        shutdown: &shutdown,
        give_back: &shutdown,
        stop: &stop,
        report_by: &stop,
        outcomes: &outcomes,
        api_backoff: Duration::ZERO,
        health: &health,
    };
    assert_eq!(handle(&api, &exec, &message("APPROVED", 1), &h).await, Disposition::Release);
    assert_eq!(api.status().0, "APPROVED");
}

#[test]
fn a_body_that_is_not_a_decision_is_refused_without_quoting_it() {
    let body = json!({
        "type": "someone@example.org", "version": 1, "id": "m", "workflow_id": "r1", "correlation_id": "c",
        "occurred_at": "2024-06-01T12:00:00Z", "payload": {},
    });
    let reason = decode(&body.to_string()).unwrap_err();
    assert!(reason.starts_with("unexpected message") && !reason.contains("someone@"), "{reason}");
    let other = body.to_string().replace("someone@example.org", "approval.decided");
    assert!(decode(&other).unwrap_err().contains(r#""approval.decided""#), "a type name is quoted");
}

#[tokio::test]
async fn a_kept_outcome_is_reported_under_the_attempt_that_ran_and_nothing_runs_again() {
    // Attempt a1 ran the action and kept its outcome; its report never got through.
    let (api, exec) = (FakeApi::with("EXECUTING", Some("a1")), CountingExecutor::default());
    let outcomes = crate::outcomes::tests::temp_store();
    let kept = StoredOutcome {
        request_id: "r1".into(),
        attempt_id: "a1".into(),
        outcome: Outcome::Executed,
        output: "restarted".into(),
        finished_at: Utc::now(),
    };
    outcomes.save(&kept).await.unwrap();
    let (shutdown, stop, health) = (CancellationToken::new(), CancellationToken::new(), ApiHealth::new());
    let h = Handling {
        attempt_id: "a2",
        shutdown: &shutdown,
        give_back: &shutdown,
        stop: &stop,
        report_by: &stop,
        outcomes: &outcomes,
        api_backoff: Duration::ZERO,
        health: &health,
    };
    assert_eq!(handle(&api, &exec, &message("APPROVED", 2), &h).await, Disposition::Delete);
    assert_eq!(exec.runs.load(Ordering::SeqCst), 0, "not run again");
    assert_eq!(api.status(), ("EXECUTED".into(), Some("restarted".into())), "not interrupted");
    assert!(outcomes.pending().unwrap().is_empty(), "forgotten once recorded");
}

#[tokio::test]
async fn an_outcome_that_cannot_be_reported_at_shutdown_is_kept_and_the_message_handed_back() {
    let api: &'static FakeApi = Box::leak(Box::new(FakeApi::with("APPROVED", None)));
    let exec = DownAfterRun { api, runs: AtomicU32::new(0) };
    let outcomes = crate::outcomes::tests::temp_store();
    let (shutdown, stop, health) = (CancellationToken::new(), CancellationToken::new(), ApiHealth::new());
    let h = Handling {
        attempt_id: "a1",
        shutdown: &shutdown,
        give_back: &shutdown,
        stop: &stop,
        report_by: &stop,
        outcomes: &outcomes,
        api_backoff: Duration::ZERO,
        health: &health,
    };
    let msg = message("APPROVED", 1);
    let (disposition, ()) = tokio::join!(handle(api, &exec, &msg, &h), async {
        eventually("the breaker opens", || !health.is_up()).await;
        shutdown.cancel();
        // The grace runs out with the API still down.
        stop.cancel();
    });
    assert_eq!(disposition, Disposition::Release, "handed back at once: nothing left to run");
    assert_eq!(api.status().0, "EXECUTING");
    let kept = outcomes.load("r1").await.unwrap().expect("kept on disk");
    assert_eq!((kept.attempt_id.as_str(), kept.outcome, kept.output.as_str()), ("a1", Outcome::Executed, "done"));
}
