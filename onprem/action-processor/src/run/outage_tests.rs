//! The whole loop against a fake approval API over real HTTP (the processor's own
//! HTTP client reads the statuses and bodies) and an in-memory FIFO queue that
//! counts receives: an outage or a wrong URL drops nothing, pauses polling, and
//! every decision runs exactly once when the API is back.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use async_trait::async_trait;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::*;
use crate::api::{Action, HttpApprovalApi};
use crate::config::ApiAuth;
use crate::executor::Execution;
use crate::health::ApiState;
use crate::source::SourceError;

// ---------------------------------------------------------------- the fake API

/// The approval API's execution route, with its state machine, or a broken one.
#[derive(Default)]
struct FakeApi {
    /// request id → (status, attempt that began it)
    requests: Mutex<HashMap<String, (String, Option<String>)>>,
    /// request id → the output recorded with its outcome.
    outputs: Mutex<HashMap<String, String>>,
    /// Every report the state machine saw: (request id, state, output).
    reports: Mutex<Vec<(String, String, String)>>,
    /// Some(status): every call is answered with it, as a gateway in trouble would.
    failing: Mutex<Option<u16>>,
    /// (status, how many): the next outcome reports are answered with it, as a proxy
    /// in front of the API might (a 408 request timeout).
    refuse_outcomes: Mutex<(u16, u32)>,
    /// Every call that reached the server, routed or not.
    calls: AtomicU32,
}

impl FakeApi {
    fn with(requests: &[(&str, &str)]) -> Arc<Self> {
        let api = Self::default();
        *api.requests.lock().unwrap() =
            requests.iter().map(|(id, status)| (id.to_string(), (status.to_string(), None))).collect();
        Arc::new(api)
    }
    fn status(&self, id: &str) -> String {
        self.requests.lock().unwrap()[id].0.clone()
    }
    fn calls(&self) -> u32 {
        self.calls.load(Ordering::SeqCst)
    }
    fn output(&self, id: &str) -> Option<String> {
        self.outputs.lock().unwrap().get(id).cloned()
    }
    /// Whether any report said the request was interrupted.
    fn interrupted(&self) -> bool {
        self.reports.lock().unwrap().iter().any(|(_, _, output)| output.starts_with("interrupted"))
    }
}

fn answer(status: u16, body: Value) -> Response {
    (StatusCode::from_u16(status).unwrap(), Json(body)).into_response()
}

async fn execution(State(api): State<Arc<FakeApi>>, Path(id): Path<String>, Json(report): Json<Value>) -> Response {
    api.calls.fetch_add(1, Ordering::SeqCst);
    if let Some(status) = *api.failing.lock().unwrap() {
        return answer(status, json!({"message": "Service Unavailable"}));
    }
    let attempt = report["attempt_id"].as_str().unwrap_or_default().to_owned();
    let state = report["state"].as_str().unwrap_or_default();
    let output = report["output"].as_str().unwrap_or_default();
    if matches!(state, "EXECUTED" | "FAILED") {
        let mut refuse = api.refuse_outcomes.lock().unwrap();
        if refuse.1 > 0 {
            refuse.1 -= 1;
            return answer(refuse.0, json!({"message": "Request Timeout"}));
        }
    }
    api.reports.lock().unwrap().push((id.clone(), state.to_owned(), output.to_owned()));
    let mut requests = api.requests.lock().unwrap();
    let Some((status, began)) = requests.get_mut(&id) else {
        return answer(404, json!({"error": "request_not_found", "message": "no such approval request"}));
    };
    match (state, status.as_str()) {
        ("EXECUTING", "APPROVED") => {
            *status = "EXECUTING".into();
            *began = Some(attempt);
            answer(200, json!({"request_id": id, "issue_id": "I-1", "action": "restart", "status": "EXECUTING"}))
        }
        ("EXECUTING", "EXECUTING") if began.as_deref() == Some(attempt.as_str()) => {
            answer(200, json!({"request_id": id, "issue_id": "I-1", "action": "restart", "status": "EXECUTING"}))
        }
        ("EXECUTING", "EXECUTING") => answer(409, json!({"error": "interrupted", "attempt_id": began.clone()})),
        ("EXECUTING", "EXECUTED" | "FAILED") => answer(409, json!({"error": "finished", "status": status.clone()})),
        ("EXECUTING", other) => answer(409, json!({"error": "not_approved", "status": other})),
        (outcome @ ("EXECUTED" | "FAILED"), "EXECUTING") if began.as_deref() == Some(attempt.as_str()) => {
            *status = outcome.to_owned();
            api.outputs.lock().unwrap().insert(id, output.to_owned());
            answer(200, json!({"status": outcome}))
        }
        // The same attempt's same outcome again (its answer was lost): as the API does.
        (outcome @ ("EXECUTED" | "FAILED"), done) if done == outcome && began.as_deref() == Some(attempt.as_str()) => {
            answer(200, json!({"status": outcome}))
        }
        ("REJECTION_RECORDED", "REJECTED") => answer(200, json!({"status": "REJECTED", "recorded": true})),
        (_, other) => answer(409, json!({"error": "conflict", "status": other})),
    }
}

/// Serves the API under `/prod` (its stage) on a free local port; `base` is the
/// URL the processor is configured with (a wrong one for the misconfiguration case).
async fn serve(api: Arc<FakeApi>) -> String {
    let fallback_api = api.clone();
    let app = Router::new()
        .route("/prod/approval-requests/{id}/execution", post(execution))
        // API Gateway's answer for a path it has no route for.
        .fallback(move || {
            let api = fallback_api.clone();
            async move {
                api.calls.fetch_add(1, Ordering::SeqCst);
                answer(404, json!({"message": "Not Found"}))
            }
        })
        .with_state(api);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

fn client(base: &str) -> HttpApprovalApi {
    let sdk = aws_config::SdkConfig::builder().build();
    HttpApprovalApi::new(base, &ApiAuth::Bearer("t".into()), &sdk, Duration::from_secs(5)).unwrap()
}

// ---------------------------------------------------------------- the fake queue

struct Msg {
    id: String,
    /// The message group: the request id, as enqueue-decision sends it.
    group: String,
    body: String,
    receive_count: u32,
    visible_at: Instant,
    deleted: bool,
}

/// A FIFO queue in memory: visibility timeouts (compressed: 1 s → 10 ms, as the
/// local stack compresses SQS's under `RETRY_TIME_SCALE`), receive counts, deletes,
/// message groups (a group with a message in flight since an earlier receive gives
/// nothing; one receive may hand out several messages of one group, in order, as
/// SQS does).
#[derive(Default)]
struct Queue {
    messages: Mutex<Vec<Msg>>,
    receives: AtomicU32,
    /// How many messages each receive that found some handed out.
    batches: Mutex<Vec<usize>>,
    /// Every ChangeMessageVisibility: (message, seconds).
    visibility_set: Mutex<Vec<(String, i32)>>,
}

const SECOND: Duration = Duration::from_millis(10);

impl Queue {
    fn with(decisions: &[(&str, &str)]) -> Arc<Self> {
        let q = Arc::new(Self::default());
        for (id, decision) in decisions {
            q.push(id, id, decision);
        }
        q
    }
    /// Sends a decision for `request_id` as message `message_id`, in the request's group.
    fn push(&self, message_id: &str, request_id: &str, decision: &str) {
        self.messages.lock().unwrap().push(Msg {
            id: message_id.to_owned(),
            group: request_id.to_owned(),
            body: json!({
                "type": "approval.decision", "version": 1, "id": format!("approval.decision:{request_id}"),
                "workflow_id": request_id, "correlation_id": "c", "occurred_at": "2024-06-01T12:00:00Z",
                "payload": {"request_id": request_id, "decision": decision, "decided_at": "2024-06-01T12:00:00Z"},
            })
            .to_string(),
            receive_count: 0,
            visible_at: Instant::now(),
            deleted: false,
        });
    }
    fn receives(&self) -> u32 {
        self.receives.load(Ordering::SeqCst)
    }
    fn deleted(&self) -> usize {
        self.messages.lock().unwrap().iter().filter(|m| m.deleted).count()
    }
    fn receive_counts(&self) -> Vec<(String, u32)> {
        self.messages.lock().unwrap().iter().map(|m| (m.id.clone(), m.receive_count)).collect()
    }
    fn at(secs: i32) -> Instant {
        Instant::now() + SECOND * u32::try_from(secs).unwrap_or(0)
    }
}

#[async_trait]
impl DecisionSource for Queue {
    async fn receive(&self, max: usize, _wait: i32, visibility: i32) -> Result<Vec<Received>, SourceError> {
        self.receives.fetch_add(1, Ordering::SeqCst);
        let out: Vec<Received> = {
            let mut messages = self.messages.lock().unwrap();
            let now = Instant::now();
            let in_flight: Vec<String> =
                messages.iter().filter(|m| !m.deleted && m.visible_at > now).map(|m| m.group.clone()).collect();
            messages
                .iter_mut()
                .filter(|m| !m.deleted && m.visible_at <= now && !in_flight.contains(&m.group))
                .take(max)
                .map(|m| {
                    m.receive_count += 1;
                    m.visible_at = Self::at(visibility);
                    Received {
                        message_id: m.id.clone(),
                        receipt: m.id.clone(),
                        body: m.body.clone(),
                        receive_count: m.receive_count,
                        group_id: Some(m.group.clone()),
                    }
                })
                .collect()
        };
        if !out.is_empty() {
            self.batches.lock().unwrap().push(out.len());
        }
        if out.is_empty() {
            // A long poll that found nothing (short: the tests' wait is zero).
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        Ok(out)
    }
    async fn delete(&self, receipt: &str) -> Result<(), SourceError> {
        if let Some(m) = self.messages.lock().unwrap().iter_mut().find(|m| m.id == receipt) {
            m.deleted = true;
        }
        Ok(())
    }
    async fn set_visibility(&self, receipt: &str, secs: i32) -> Result<(), SourceError> {
        self.visibility_set.lock().unwrap().push((receipt.to_owned(), secs));
        if let Some(m) = self.messages.lock().unwrap().iter_mut().find(|m| m.id == receipt) {
            m.visible_at = Self::at(secs);
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- the harness

type During = Box<dyn Fn(String) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> + Send + Sync>;

/// Counts the runs of each request; its output names the run (`done r1 run 1`), so a
/// recorded output shows which run it came from.
#[derive(Default)]
struct Counting {
    runs: Mutex<HashMap<String, u32>>,
    /// What the action does while it runs (given the request id): last a while, or
    /// take the API down.
    during: Option<During>,
}

#[async_trait]
impl Executor for Counting {
    async fn execute(&self, action: &Action, _stop: CancellationToken) -> Execution {
        let run = {
            let mut runs = self.runs.lock().unwrap();
            let n = runs.entry(action.request_id.clone()).or_default();
            *n += 1;
            *n
        };
        if let Some(during) = &self.during {
            during(action.request_id.clone()).await;
        }
        Execution::new(true, format!("done {} run {run}", action.request_id))
    }
}

impl Counting {
    fn during<F, Fut>(f: F) -> Arc<Self>
    where
        F: Fn(String) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        Arc::new(Self { runs: Mutex::default(), during: Some(Box::new(move |id| Box::pin(f(id)))) })
    }
    fn total(&self) -> u32 {
        self.runs.lock().unwrap().values().sum()
    }
}

struct Running {
    queue: Arc<Queue>,
    executor: Arc<Counting>,
    health: Arc<ApiHealth>,
    shutdown: CancellationToken,
    runner: tokio::task::JoinHandle<()>,
}

fn settings() -> RunSettings {
    RunSettings {
        visibility: Duration::from_secs(30),
        wait: Duration::ZERO,
        max_in_flight: 2,
        shutdown_grace: Duration::from_secs(1),
        api_backoff: Duration::from_millis(1),
        // What RETRY_TIME_SCALE makes of the real 2 s … 5 min schedule.
        api_probe: Backoff { base: Duration::from_millis(5), max: Duration::from_millis(40) },
        poll_backoff: Duration::from_millis(5),
        max_hold: Duration::from_secs(3600),
        // Each test its own state directory; a restart keeps the settings, so the same.
        outcomes: crate::outcomes::tests::temp_store(),
    }
}

fn start(base: &str, queue: Arc<Queue>) -> Running {
    start_with(base, queue, settings())
}

fn start_with(base: &str, queue: Arc<Queue>, settings: RunSettings) -> Running {
    start_as(base, queue, settings, Arc::new(Counting::default()))
}

/// A processor with this executor: a restart is a new one over the same queue,
/// executor and settings.
fn start_as(base: &str, queue: Arc<Queue>, settings: RunSettings, executor: Arc<Counting>) -> Running {
    let (health, shutdown) = (Arc::new(ApiHealth::new()), CancellationToken::new());
    let runner = tokio::spawn(run(
        queue.clone(),
        Arc::new(client(base)),
        executor.clone(),
        health.clone(),
        settings,
        shutdown.clone(),
    ));
    Running { queue, executor, health, shutdown, runner }
}

impl Running {
    async fn stop(self) -> (Arc<Queue>, Arc<Counting>) {
        self.shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(10), self.runner).await.expect("stops").unwrap();
        (self.queue, self.executor)
    }
}

/// Polls `cond` every 5 ms until it holds; panics after 10 s.
async fn eventually(what: &str, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// While the breaker is open: the API keeps being probed, the queue is not polled.
async fn polling_stays_paused(r: &Running, api: &FakeApi) {
    eventually("the breaker opens", || !r.health.is_up()).await;
    let receives = r.queue.receives();
    let calls = api.calls();
    eventually("three more probes", || api.calls() >= calls + 3).await;
    assert_eq!(r.queue.receives(), receives, "no receive while the API is down");
    assert!(!r.health.is_up());
}

// ---------------------------------------------------------------- the tests

#[tokio::test]
async fn a_wrong_base_path_deletes_nothing_and_executes_nothing() {
    let api = FakeApi::with(&[("r1", "APPROVED"), ("r2", "APPROVED")]);
    let base = serve(api.clone()).await;
    // The stage is /prod; the processor was given the wrong one.
    let r = start(&format!("{base}/staging"), Queue::with(&[("r1", "APPROVED"), ("r2", "APPROVED")]));
    polling_stays_paused(&r, &api).await;
    match r.health.state() {
        ApiState::Down { reason, .. } => assert_eq!(reason, "api_not_found_route"),
        up => panic!("{up:?}"),
    }
    let (queue, executor) = r.stop().await;
    assert_eq!(queue.deleted(), 0, "a gateway's 404 is not the API saying the request is gone");
    assert_eq!(executor.total(), 0);
    assert_eq!((api.status("r1"), api.status("r2")), ("APPROVED".into(), "APPROVED".into()));
}

#[tokio::test]
async fn an_api_answering_503_deletes_nothing_pauses_polling_and_is_unhealthy() {
    let api = FakeApi::with(&[("r1", "APPROVED"), ("r2", "REJECTED"), ("r3", "APPROVED")]);
    *api.failing.lock().unwrap() = Some(503);
    let base = serve(api.clone()).await;
    let r = start(&format!("{base}/prod"), Queue::with(&[("r1", "APPROVED"), ("r2", "REJECTED"), ("r3", "APPROVED")]));
    polling_stays_paused(&r, &api).await;
    let report = crate::health::HealthReport::of(&r.health.state(), true);
    assert!(!report.healthy && report.api_unavailable, "{report:?}");
    assert_eq!(report.reason.as_deref(), Some("api_status"));
    // Two were in hand (max_in_flight): received once, still held; the third never.
    let counts: Vec<u32> = r.queue.receive_counts().into_iter().map(|(_, n)| n).collect();
    assert_eq!(counts, [1, 1, 0]);
    let (queue, executor) = r.stop().await;
    assert_eq!(queue.deleted(), 0);
    assert_eq!(executor.total(), 0);
}

#[tokio::test]
async fn decisions_held_through_an_outage_run_exactly_once_when_the_api_is_back() {
    let ids = [("r1", "APPROVED"), ("r2", "REJECTED"), ("r3", "APPROVED"), ("r4", "APPROVED")];
    let api = FakeApi::with(&ids);
    *api.failing.lock().unwrap() = Some(503);
    let base = serve(api.clone()).await;
    let r = start(&format!("{base}/prod"), Queue::with(&ids));
    polling_stays_paused(&r, &api).await;
    *api.failing.lock().unwrap() = None;
    eventually("every decision is handled", || r.queue.deleted() == ids.len()).await;
    assert!(r.health.is_up(), "healthy again");
    let runs = r.executor.runs.lock().unwrap().clone();
    assert_eq!(runs, HashMap::from([("r1".into(), 1), ("r3".into(), 1), ("r4".into(), 1)]), "once each; r2 rejected");
    assert_eq!(
        (api.status("r1"), api.status("r2"), api.status("r3"), api.status("r4")),
        ("EXECUTED".into(), "REJECTED".into(), "EXECUTED".into(), "EXECUTED".into())
    );
    // No receive was burned by the outage: each decision was received once.
    assert!(r.queue.receive_counts().iter().all(|(_, n)| *n == 1), "{:?}", r.queue.receive_counts());
    let (_, executor) = r.stop().await;
    assert_eq!(executor.total(), 3);
}

#[tokio::test]
async fn a_decision_held_past_the_hold_limit_is_given_back_unspent_and_runs_once_when_the_api_is_back() {
    let ids = [("r1", "APPROVED")];
    let api = FakeApi::with(&ids);
    *api.failing.lock().unwrap() = Some(502);
    let base = serve(api.clone()).await;
    // SQS hides a message for at most 12 hours from its receive; here 30 ms. The
    // heartbeat renews 60 s; a give-back asks for the retry delay (30 s on a first receive).
    let held = RunSettings { max_hold: Duration::from_millis(30), visibility: Duration::from_secs(60), ..settings() };
    let r = start_with(&format!("{base}/prod"), Queue::with(&ids), held);
    polling_stays_paused(&r, &api).await;
    let given_back = || r.queue.visibility_set.lock().unwrap().contains(&("r1".to_owned(), 30));
    eventually("given back with the retry delay", given_back).await;
    assert_eq!((r.queue.deleted(), r.executor.total()), (0, 0));
    *api.failing.lock().unwrap() = None;
    eventually("the decision is handled", || r.queue.deleted() == 1).await;
    assert_eq!(r.queue.receive_counts(), [("r1".to_owned(), 2)], "one receive for the give-back, none for the outage");
    assert_eq!(api.status("r1"), "EXECUTED");
    let (_, executor) = r.stop().await;
    assert_eq!(executor.total(), 1);
}

#[tokio::test]
async fn two_messages_of_one_group_in_one_receive_run_the_action_once_and_record_its_outcome() {
    let api = FakeApi::with(&[("r1", "APPROVED")]);
    let base = serve(api.clone()).await;
    // The decision and its re-announcement after SQS's 5-minute deduplication window:
    // two messages of one group, handed out by one receive (max_in_flight 2).
    let queue = Queue::with(&[("r1", "APPROVED")]);
    queue.push("r1-again", "r1", "APPROVED");
    // The action lasts until someone else changes the request (at most a second):
    // long enough for a second attempt at it to interfere.
    let watched = api.clone();
    let executor = Counting::during(move |id| {
        let api = watched.clone();
        async move {
            let until = Instant::now() + Duration::from_secs(1);
            while api.status(&id) == "EXECUTING" && Instant::now() < until {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    });
    let r = start_as(&format!("{base}/prod"), queue, settings(), executor);
    eventually("both messages are settled", || r.queue.deleted() == 2).await;
    assert_eq!(r.queue.batches.lock().unwrap().first(), Some(&2), "both in one receive");
    assert_eq!(api.status("r1"), "EXECUTED");
    assert_eq!(api.output("r1").as_deref(), Some("done r1 run 1"), "the run's own outcome is recorded");
    assert!(!api.interrupted(), "nothing reported interrupted: {:?}", api.reports.lock().unwrap());
    let (_, executor) = r.stop().await;
    assert_eq!(executor.total(), 1, "executed once");
}

#[tokio::test]
async fn an_outcome_whose_report_is_refused_is_reported_by_the_next_attempt_not_marked_interrupted() {
    let api = FakeApi::with(&[("r1", "APPROVED")]);
    // A proxy in front of the API times the report out (408): not an outage, so the
    // attempt gives up and the message comes back after its retry delay.
    *api.refuse_outcomes.lock().unwrap() = (408, 1);
    let base = serve(api.clone()).await;
    let r = start(&format!("{base}/prod"), Queue::with(&[("r1", "APPROVED")]));
    eventually("the decision is handled", || r.queue.deleted() == 1).await;
    assert_eq!(r.queue.receive_counts(), [("r1".to_owned(), 2)], "it came back once");
    assert_eq!(api.status("r1"), "EXECUTED");
    assert_eq!(api.output("r1").as_deref(), Some("done r1 run 1"), "the original outcome");
    assert!(!api.interrupted(), "{:?}", api.reports.lock().unwrap());
    let (_, executor) = r.stop().await;
    assert_eq!(executor.total(), 1, "executed once");
}

#[tokio::test]
async fn an_outcome_unreported_when_the_processor_stops_is_reported_after_a_restart_not_marked_interrupted() {
    let api = FakeApi::with(&[("r1", "APPROVED")]);
    let base = format!("{}/prod", serve(api.clone()).await);
    // The API goes down while the action runs: its outcome cannot be reported.
    let down = api.clone();
    let executor = Counting::during(move |_| {
        let api = down.clone();
        async move { *api.failing.lock().unwrap() = Some(503) }
    });
    let settings = settings();
    let r = start_as(&base, Queue::with(&[("r1", "APPROVED")]), settings.clone(), executor);
    eventually("the breaker opens", || !r.health.is_up()).await;
    // Stopped (SIGTERM) while the report waits: the grace runs out.
    let (queue, executor) = r.stop().await;
    assert_eq!((executor.total(), queue.deleted(), api.status("r1")), (1, 0, "EXECUTING".to_owned()));
    assert_eq!(settings.outcomes.pending().unwrap(), ["r1"], "the outcome is kept on disk");
    // The API is back; the processor starts again.
    *api.failing.lock().unwrap() = None;
    let r = start_as(&base, queue, settings.clone(), executor);
    eventually("the decision is handled", || r.queue.deleted() == 1).await;
    assert_eq!(api.status("r1"), "EXECUTED");
    assert_eq!(api.output("r1").as_deref(), Some("done r1 run 1"), "the original outcome");
    assert!(!api.interrupted(), "{:?}", api.reports.lock().unwrap());
    assert!(settings.outcomes.pending().unwrap().is_empty(), "forgotten once reported");
    let (_, executor) = r.stop().await;
    assert_eq!(executor.total(), 1, "executed once");
}
