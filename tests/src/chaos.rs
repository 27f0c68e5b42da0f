//! The chaos suite: many report workflows, every message delivered three times,
//! third-party fakes failing 30% of requests, and the local runner killed outright
//! (every function process SIGKILLed mid-batch, every poller dropped mid-flight)
//! several times at random moments and started again. Then: nothing lost, no
//! duplicate side effects, poison messages dead-lettered with their reason after
//! one receive, the fixable dead letters completed after a redrive, and no personal
//! data or secret in any log line.
//!
//! Beside the reports run a tenth as many audited workflows (`audit`), action
//! approvals (`approvals`) and calls (`contacts`), through the same kills.
//!
//! Everything runs on the shipped configuration: the template's retry policy (a
//! 24-hour budget), its waits compressed by the test time scale (`crate::TIME_SCALE`)
//! and nothing else changed. On top of the everyday flakiness come outages
//! (`outages`): Zendesk down for 6 hours, Notify for 2, and a burst of 429s.
//!
//! The emulator and the fakes live outside the runner (they are AWS and the
//! providers: they do not crash with our code), so they keep their state across kills.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use activity::dynamo::DynamoActivityStore;
use activity::{LoginEvent, LoginRecorder, RawLoginEvent};
use local_stack::fakes::parameters::{
    CONNECT_ENDPOINT_URL_PARAM, NOTIFY_BASE_URL_PARAM, NOTIFY_TEMPLATE_ID_PARAM, ZENDESK_BASE_URL_PARAM,
    ZENDESK_EMAIL_PARAM,
};
use local_stack::{Emulator, FakeServer, LocalStack, StackOptions, LOCAL_NOTIFY_TEMPLATE_ID, LOCAL_ZENDESK_EMAIL};
use rand::Rng;
use serde_json::{json, Value};

use crate::providers::{answered_at, notify_emails_at, set_faults_at, zendesk_tickets_at};

pub mod approvals;
mod audit;
mod contacts;
pub mod outages;

pub use approvals::ApprovalOutcome;
pub use audit::AuditOutcome;
pub use contacts::ContactOutcome;

#[derive(Debug, Clone)]
pub struct ChaosConfig {
    pub workflows: usize,
    pub kills: usize,
    /// Delivery copies of each report message.
    pub copies: usize,
    pub error_rate: f64,
    /// Reports whose ticket step meets a Zendesk outage that refuses them (403):
    /// dead-lettered, then completed after the outage by a redrive.
    pub refused: usize,
    /// Audited workflows (seed 004) beside the reports.
    pub audits: usize,
    /// Action approval requests (seed 002) beside the reports.
    pub approvals: usize,
    /// Calls (seed 003) beside the reports.
    pub contacts: usize,
    /// Provider outages during the run (in real time; compressed by the time scale).
    pub outages: outages::Outages,
    pub deadline: Duration,
    pub bin_dir: std::path::PathBuf,
}

impl ChaosConfig {
    pub fn short() -> Self {
        Self {
            workflows: 50,
            kills: 1,
            copies: 3,
            error_rate: 0.3,
            refused: 3,
            audits: 5,
            approvals: 3,
            contacts: 6,
            outages: outages::Outages::default(),
            deadline: Duration::from_secs(600),
            bin_dir: crate::bin_dir(),
        }
    }
}

/// What a run found.
#[derive(Debug, Clone, Default)]
pub struct ChaosOutcome {
    pub workflows: usize,
    pub completed: usize,
    pub lost: usize,
    pub tickets: usize,
    pub duplicate_tickets: usize,
    pub txma_events: usize,
    pub duplicate_txma_events: usize,
    /// TxMA deliveries beyond one per event: the same event id again (TxMA dedupes).
    pub txma_redeliveries: usize,
    /// Distinct confirmation emails (by reference), and sends beyond one per reference.
    pub emails: usize,
    pub duplicate_emails: usize,
    /// Dead letters whose failure was retryable: a retry budget that ran out (an outage).
    pub outage_dead_letters: usize,
    /// The outages the run went through.
    pub outages: String,
    /// How the ticket step honoured Zendesk's `Retry-After`.
    pub retry_after: outages::RetryAfterCheck,
    pub kills: usize,
    /// Messages in flight (received, not yet deleted) across the step queues at each kill.
    pub in_flight_at_kills: Vec<u64>,
    /// Poison messages found in the DLQs, by error kind.
    pub poison: BTreeMap<String, usize>,
    pub poison_ok: bool,
    pub redriven: usize,
    pub log_lines: usize,
    pub log_leaks: Vec<String>,
    pub audit: AuditOutcome,
    pub approvals: ApprovalOutcome,
    pub contacts: ContactOutcome,
    /// The emulator's peak resident memory over the run (VmHWM), in MiB.
    pub emulator_peak_mib: Option<u64>,
    pub elapsed: Duration,
}

impl ChaosOutcome {
    pub fn ok(&self) -> bool {
        self.lost == 0
            && self.duplicate_tickets == 0
            && self.duplicate_txma_events == 0
            && self.duplicate_emails == 0
            && self.outage_dead_letters == 0
            && self.retry_after.checked > 0
            && self.retry_after.violations.is_empty()
            && self.poison_ok
            && self.log_leaks.is_empty()
            && self.audit.completed == self.audit.workflows
            && self.audit.duplicate_records == 0
            && self.approvals.completed == self.approvals.requests
            && self.approvals.double_decisions == 0
            && self.approvals.duplicate_fifo_messages == 0
            && self.contacts.completed == self.contacts.contacts
            && self.contacts.duplicate_alerts == 0
            && self.contacts.false_alerts == 0
    }

    pub fn summary(&self) -> String {
        format!(
            "chaos: {} workflows, {} kills (in flight: {:?}), {:.0}s: {} completed, {} lost; tickets {} ({} duplicate), TxMA events {} ({} duplicate, {} redelivered), emails {} ({} duplicate); outages: {} dead letters, Retry-After honoured {} times ({} violations, shortest gap {:?} ms against {:?}; timed reports made {} Zendesk requests, {} answered 429); audited workflows {}/{} complete, records {} ({} duplicate), notifications {} ({} duplicate); approvals {}/{} complete, double decisions {}, FIFO decisions {} ({} duplicate), notices {} ({} duplicate); calls {}/{} complete, alerts {} ({} duplicate, {} false); poison {}; redriven {}; log lines {} ({} leaks) => {}",
            self.workflows,
            self.kills,
            self.in_flight_at_kills,
            self.elapsed.as_secs_f64(),
            self.completed,
            self.lost,
            self.tickets,
            self.duplicate_tickets,
            self.txma_events,
            self.duplicate_txma_events,
            self.txma_redeliveries,
            self.emails,
            self.duplicate_emails,
            self.outage_dead_letters,
            self.retry_after.checked,
            self.retry_after.violations.len(),
            self.retry_after.shortest_gap_ms.map(|g| g.0),
            self.retry_after.shortest_gap_ms.map(|g| g.1),
            self.retry_after.seen,
            self.retry_after.rate_limited,
            self.audit.completed,
            self.audit.workflows,
            self.audit.records,
            self.audit.duplicate_records,
            self.audit.notifications,
            self.audit.duplicate_notifications,
            self.approvals.completed,
            self.approvals.requests,
            self.approvals.double_decisions,
            self.approvals.fifo_messages,
            self.approvals.duplicate_fifo_messages,
            self.approvals.notices,
            self.approvals.duplicate_notices,
            self.contacts.completed,
            self.contacts.contacts,
            self.contacts.alerts,
            self.contacts.duplicate_alerts,
            self.contacts.false_alerts,
            if self.poison_ok {
                "all dead-lettered with reasons after 1 receive, the wrong-user report REJECTED with its reason"
            } else {
                "NOT all dead-lettered / rejected"
            },
            self.redriven,
            self.log_lines,
            self.log_leaks.len(),
            if self.ok() { "OK" } else { "FAILED" }
        )
    }
}

struct World {
    emulator_endpoint: String,
    zendesk: FakeServer,
    notify: FakeServer,
    connect: FakeServer,
    config: ChaosConfig,
    logs: Vec<String>,
}

impl World {
    fn options(&self) -> StackOptions {
        StackOptions::default()
            .with_bin_dir(&self.config.bin_dir)
            .with_existing_emulator(&self.emulator_endpoint)
            .without_fakes()
            .with_parameter(ZENDESK_BASE_URL_PARAM, self.zendesk.url())
            .with_parameter(ZENDESK_EMAIL_PARAM, LOCAL_ZENDESK_EMAIL)
            .with_parameter(NOTIFY_BASE_URL_PARAM, self.notify.url())
            .with_parameter(NOTIFY_TEMPLATE_ID_PARAM, LOCAL_NOTIFY_TEMPLATE_ID)
            .with_parameter(CONNECT_ENDPOINT_URL_PARAM, self.connect.url())
            .with_parameter("RecordingKeyPrefix", contacts::PREFIX)
            .with_parameter("RecordingGraceSeconds", "3")
            // The shipped retry policy; only its waits are compressed.
            .with_time_scale(crate::time_scale())
            .quiet()
    }

    async fn start_runner(&self) -> anyhow::Result<LocalStack> {
        Ok(LocalStack::start(self.options()).await?)
    }

    /// Keeps the runner's logs, then drops it: SIGKILL for every function process,
    /// pollers gone mid-flight (their messages come back after the visibility timeout).
    fn kill(&mut self, runner: LocalStack) {
        for f in FUNCTIONS {
            self.logs.extend(runner.function_logs(f));
        }
        drop(runner);
    }
}

/// Every function the run exercises, whose logs are scanned.
const FUNCTIONS: [&str; 16] = [
    "mark-reported",
    "create-zendesk-ticket",
    "send-txma-event",
    "send-notify-email",
    "workflow-api",
    "create-audit-record",
    "send-notification",
    "approval-api",
    "send-approval-emails",
    "enqueue-decision",
    "notify-approvers",
    "approval-sweeper",
    "ingest-connect-logs",
    "recording-sweep",
    "poll-contact",
    "check-recording",
];

fn report_body(report_id: &str, user: &str, event: &str) -> String {
    json!({"report_id": report_id, "user_id": user, "email": format!("{user}@example.gov.uk"),
           "event_ids": [event], "reported_at": "2024-06-01T12:00:00Z"})
    .to_string()
}

async fn send_all(sqs: &aws_sdk_sqs::Client, url: &str, bodies: &[String]) -> anyhow::Result<()> {
    for chunk in bodies.chunks(10) {
        let mut req = sqs.send_message_batch().queue_url(url);
        for (i, b) in chunk.iter().enumerate() {
            req = req.entries(
                aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message_body(b)
                    .build()?,
            );
        }
        req.send().await?;
    }
    Ok(())
}

async fn statuses(ddb: &aws_sdk_dynamodb::Client, table: &str) -> anyhow::Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    let mut start = None;
    loop {
        let page = ddb
            .scan()
            .table_name(table)
            .projection_expression("report_id, #s")
            .expression_attribute_names("#s", "status")
            .set_exclusive_start_key(start)
            .send()
            .await?;
        for item in page.items() {
            let get = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
            out.insert(get("report_id"), get("status"));
        }
        match page.last_evaluated_key {
            Some(k) if !k.is_empty() => start = Some(k),
            _ => return Ok(out),
        }
    }
}

/// Each poison kind, the queue it goes to, and its body.
fn poison() -> Vec<(&'static str, &'static str, String)> {
    let envelope = |version: u32, payload: Value| {
        json!({"type": "report.requested", "version": version, "id": "p", "workflow_id": "w", "correlation_id": "c",
               "occurred_at": "2024-06-01T12:00:00Z", "payload": payload})
        .to_string()
    };
    vec![
        ("not_json", "ReportSuspiciousActivityQueue", "{not json".to_owned()),
        ("wrong_types", "ReportSuspiciousActivityQueue", json!({"report_id": 7, "user_id": [], "email": true, "event_ids": "x", "reported_at": 1}).to_string()),
        ("invalid_values", "ReportSuspiciousActivityQueue", json!({"report_id": "not-a-uuid", "user_id": "u", "email": "nobody", "event_ids": [], "reported_at": "2024-06-01T12:00:00Z"}).to_string()),
        ("oversized", "ReportSuspiciousActivityQueue", json!({"report_id": uuid::Uuid::new_v4().to_string(), "user_id": "u", "email": "a@b.cd", "event_ids": (0..5000).map(|i| format!("event-{i}")).collect::<Vec<_>>(), "reported_at": "2024-06-01T12:00:00Z"}).to_string()),
        ("unknown_version", "CreateZendeskTicketQueue", envelope(99, json!({}))),
        ("wrong_type", "CreateZendeskTicketQueue", json!({"type": "login.recorded", "version": 1, "id": "p", "workflow_id": "w", "correlation_id": "c", "occurred_at": "2024-06-01T12:00:00Z", "payload": {}}).to_string()),
    ]
}

pub async fn run(config: ChaosConfig) -> anyhow::Result<ChaosOutcome> {
    let started = Instant::now();
    let root = local_stack::find_workspace_root();
    let emulator = Emulator::start(&root.join(".venv"), None).await?;
    let any: SocketAddr = "127.0.0.1:0".parse()?;
    let mut world = World {
        emulator_endpoint: emulator.endpoint().to_owned(),
        zendesk: FakeServer::start_zendesk(any).await?,
        notify: FakeServer::start_notify(any).await?,
        connect: FakeServer::start_connect(any).await?,
        config: config.clone(),
        logs: Vec::new(),
    };
    let mut runner = world.start_runner().await?;
    let sqs = aws_sdk_sqs::Client::new(runner.sdk_config());
    let ddb = aws_sdk_dynamodb::Client::new(runner.sdk_config());
    let p = runner.provisioned().clone();
    let queue = p.queue_url("ReportSuspiciousActivityQueue")?.to_owned();
    let reports_table = p.table_name("ReportsTable")?.to_owned();
    let store = Arc::new(DynamoActivityStore::new(ddb.clone(), p.table_name("ActivityTable")?));

    // The workflows' users and events.
    let mut workflows: Vec<(String, String, String)> = Vec::with_capacity(config.workflows);
    for i in 0..config.workflows {
        let user = format!("chaos-{i}-{}", uuid::Uuid::new_v4().simple());
        let event = format!("evt-{i}");
        let raw = RawLoginEvent {
            user_id: user.clone(),
            service_id: "svc".into(),
            service_name: "Chaos service".into(),
            timestamp: "2024-06-01T10:00:00Z".into(),
            event_id: Some(event.clone()),
            session_id: None,
        };
        store.record(&LoginEvent::parse(raw, chrono::Utc::now())?).await?;
        workflows.push((user, event, uuid::Uuid::new_v4().to_string()));
    }

    // The other systems' work, through the API before the kills.
    let audits = audit::start(&runner, config.audits).await?;
    let mut approvals = approvals::start(&runner, config.approvals).await?;
    let calls = contacts::start(&runner, &world.connect.url(), config.contacts, config.copies).await?;

    // The refused ones go first, alone, into a Zendesk that answers 403.
    let refused: Vec<&(String, String, String)> = workflows.iter().take(config.refused).collect();
    set_faults_at(&world.zendesk.url(), json!({"error_rate": 1.0, "status": 403})).await;
    send_all(&sqs, &queue, &refused.iter().map(|(u, e, r)| report_body(r, u, e)).collect::<Vec<_>>()).await?;
    let dlq_url = p.queue_url("CreateZendeskTicketDlq")?.to_owned();
    crate::eventually("the refused reports dead-lettered", Duration::from_secs(120), || async {
        (local_stack::queues::depth(&sqs, &dlq_url).await.ok()? >= config.refused as u64).then_some(())
    })
    .await;

    // The rest: every message `copies` times, with flaky providers and poison mixed
    // in, into both providers' outages. A few reports go first, once each, so they
    // wait out the outage at the ticket step and meet Zendesk's 429 burst: their
    // retries are timed.
    let flaky = json!({"error_rate": config.error_rate, "slow_ms": 1500});
    let limited = config.outages.rate_limited_reports.min(workflows.len().saturating_sub(config.refused));
    let timed: Vec<&(String, String, String)> = workflows.iter().skip(config.refused).take(limited).collect();
    let weather = outages::Weather {
        plan: config.outages.clone(),
        scale: crate::time_scale(),
        zendesk: world.zendesk.url(),
        notify: world.notify.url(),
        flaky,
        sqs: sqs.clone(),
        queue: queue.clone(),
        rate_limited: timed.iter().map(|(u, e, r)| report_body(r, u, e)).collect(),
    };
    let weather = weather.start().await?;
    let rest: Vec<String> =
        workflows.iter().skip(config.refused + limited).map(|(u, e, r)| report_body(r, u, e)).collect();
    for _ in 0..config.copies {
        send_all(&sqs, &queue, &rest).await?;
    }
    let audit_redelivered = audit::redeliver(&runner, &sqs, &audits, config.copies - 1).await?;
    approvals::read_links(&world.emulator_endpoint, &mut approvals, Duration::from_secs(120)).await?;
    approvals::race(&runner, &mut approvals).await?;
    // Kill the runner at random moments while the work is under way.
    let mut kills = 0;
    let mut in_flight_at_kills = Vec::new();
    let deadline = Instant::now() + config.deadline;
    while kills < config.kills {
        // A sweep (as the schedule fires it) puts the calls' polls in flight too.
        contacts::sweep(&runner).await;
        let wait = rand::rng().random_range(2_000..8_000);
        tokio::time::sleep(Duration::from_millis(wait)).await;
        let mut in_flight = 0;
        for q in
            ["ReportSuspiciousActivityQueue", "CreateZendeskTicketQueue", "SendTxmaEventQueue", "SendNotifyEmailQueue"]
        {
            in_flight += in_flight_of(&sqs, p.queue_url(q)?).await.unwrap_or(0);
        }
        in_flight_at_kills.push(in_flight);
        world.kill(runner);
        kills += 1;
        tokio::time::sleep(Duration::from_millis(rand::rng().random_range(100..1_000))).await;
        runner = world.start_runner().await?;
    }

    // Poison once the kills are over, so each is received exactly once. Beside it, a
    // report naming another user's event: not poison but a refusal the user sees
    // (REJECTED with the reason), so it must neither dead-letter nor make a ticket.
    for (_, q, body) in poison() {
        send_all(&sqs, p.queue_url(q)?, std::slice::from_ref(&body)).await?;
    }
    let wrong_user_report = uuid::Uuid::new_v4().to_string();
    if let (Some(a), Some(b)) = (workflows.first(), workflows.get(1)) {
        send_all(&sqs, &queue, &[report_body(&wrong_user_report, &a.0, &b.1)]).await?;
    }

    // The weather has passed (it ends well before the work does).
    weather.await??;

    // Wait for every non-refused workflow to finish (or the deadline).
    let wanted: BTreeSet<String> = workflows.iter().skip(config.refused).map(|w| w.2.clone()).collect();
    loop {
        let s = statuses(&ddb, &reports_table).await?;
        let done = wanted.iter().filter(|id| s.get(*id).map(String::as_str) == Some("COMPLETED")).count();
        if done == wanted.len() || Instant::now() > deadline {
            break;
        }
        // A full scan: rarely, so the checking does not slow the emulator it checks.
        tokio::time::sleep(Duration::from_secs(5)).await;
    }

    // The other systems settle.
    let mut audit_outcome = audit::settle(&runner, &audits, Duration::from_secs(180)).await?;
    audit_outcome.redelivered = audit_redelivered;
    let approval_outcome = approvals::settle(&runner, &sqs, &approvals, Duration::from_secs(180)).await?;
    // Calls are polled at poll-contact's share of Connect's DescribeContact quota (one
    // a second here): a few seconds per call on top.
    let contacts_deadline = Duration::from_secs(240 + 3 * config.contacts as u64);
    let contact_outcome = contacts::settle(&runner, &sqs, &calls, contacts_deadline).await?;

    // Poison: each in its DLQ with a reason, after one receive (they may sit behind
    // the last copies of the load, so this polls).
    let poison_deadline = Instant::now() + Duration::from_secs(120);
    let (poison_found, poison_ok) = loop {
        let (found, ok) = poison_in_dlqs(&sqs, &p).await?;
        let rejected = config.workflows < 2 || rejected_with_reason(&ddb, &reports_table, &wrong_user_report).await?;
        if (ok && rejected) || Instant::now() > poison_deadline {
            break (found, ok && rejected);
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    };

    // No retry budget ran out in the outages: no retryable failure was dead-lettered.
    let outage_dead_letters = retryable_dead_letters(&sqs, &p).await?;
    let timed_ids: BTreeSet<String> = timed.iter().map(|w| w.2.clone()).collect();
    let retry_after =
        outages::check_retry_after(&answered_at(&world.zendesk.url()).await, &timed_ids, crate::time_scale());

    // The outage is over: redrive the refused ones, only those (by reason).
    set_faults_at(&world.zendesk.url(), json!({"error_rate": 0})).await;
    set_faults_at(&world.notify.url(), json!({"error_rate": 0})).await;
    let template = root.join("infra/template.yaml");
    let map = ops::stack::StackMap::load(&template, &runner.context().stack_name, &runner.context().region)?;
    let dlq = map.find_queue("CreateZendeskTicketDlq")?;
    let options = ops::dlq::RedriveOptions { reason: Some("403".into()), ..Default::default() };
    let redriven = ops::dlq::redrive(&sqs, &map, dlq, &options, |_| {}).await?.moved;
    let refused_ids: BTreeSet<String> = refused.iter().map(|w| w.2.clone()).collect();
    let refused_deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let s = statuses(&ddb, &reports_table).await?;
        if refused_ids.iter().all(|id| s.get(id).map(String::as_str) == Some("COMPLETED"))
            || Instant::now() > refused_deadline
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    // Count what the providers and TxMA received.
    let final_status = statuses(&ddb, &reports_table).await?;
    let all_ids: BTreeSet<String> = workflows.iter().map(|w| w.2.clone()).collect();
    let completed = all_ids.iter().filter(|id| final_status.get(*id).map(String::as_str) == Some("COMPLETED")).count();
    let tickets = zendesk_tickets_at(&world.zendesk.url(), None).await;
    let ticket_refs: Vec<String> =
        tickets.iter().filter_map(|t| t["external_id"].as_str().map(str::to_owned)).collect();
    let emails = notify_emails_at(&world.notify.url(), None).await;
    let email_refs: Vec<String> = emails.iter().filter_map(|e| e["reference"].as_str().map(str::to_owned)).collect();
    // (event id, report id) of every TxMA delivery.
    let txma: Vec<(String, String)> = drain_bodies(&sqs, p.queue_url("TxmaQueue")?)
        .await?
        .iter()
        .filter_map(|b| serde_json::from_str::<Value>(b).ok())
        .filter_map(|e| Some((e["event_id"].as_str()?.to_owned(), e["extensions"]["report_id"].as_str()?.to_owned())))
        .collect();
    let mut events_per_report: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (event, report) in &txma {
        events_per_report.entry(report).or_default().insert(event);
    }
    let txma_events: usize = events_per_report.values().map(BTreeSet::len).sum();
    let duplicate_txma_events: usize = events_per_report.values().map(|e| e.len().saturating_sub(1)).sum();
    let distinct = |v: &[String]| v.iter().collect::<BTreeSet<_>>().len();

    world.kill(runner);
    let mut secrets = approvals::secrets(&approvals);
    secrets.push(audit::PRIVATE.to_owned());
    secrets.push(contacts::CUSTOMER_NUMBER.to_owned());
    let leaks = scan_logs(&world.logs, &secrets);
    Ok(ChaosOutcome {
        workflows: config.workflows,
        completed,
        lost: config.workflows - completed,
        tickets: distinct(&ticket_refs),
        duplicate_tickets: ticket_refs.len() - distinct(&ticket_refs),
        txma_events,
        duplicate_txma_events,
        txma_redeliveries: txma.len() - txma_events,
        emails: distinct(&email_refs),
        duplicate_emails: email_refs.len() - distinct(&email_refs),
        outage_dead_letters,
        outages: config.outages.describe(crate::time_scale()),
        retry_after,
        kills,
        in_flight_at_kills,
        poison: poison_found,
        poison_ok,
        redriven,
        log_lines: world.logs.len(),
        log_leaks: leaks,
        audit: audit_outcome,
        approvals: approval_outcome,
        contacts: contact_outcome,
        emulator_peak_mib: emulator.pid().and_then(peak_rss_mib),
        elapsed: started.elapsed(),
    })
}

type Attrs = BTreeMap<String, String>;

/// A process's peak resident memory (VmHWM) in MiB, from /proc.
fn peak_rss_mib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse::<u64>().ok().map(|kib| kib / 1024)
}

/// Whether report `id` is REJECTED with a reason.
async fn rejected_with_reason(ddb: &aws_sdk_dynamodb::Client, table: &str, id: &str) -> anyhow::Result<bool> {
    let item = ddb
        .get_item()
        .table_name(table)
        .key(reports::dynamo::keys::REPORT_ID, aws_sdk_dynamodb::types::AttributeValue::S(id.to_owned()))
        .consistent_read(true)
        .send()
        .await?
        .item
        .unwrap_or_default();
    let text = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
    Ok(text(reports::dynamo::keys::STATUS) == "REJECTED" && !text(reports::dynamo::keys::REJECTION_REASON).is_empty())
}

/// The poison messages in the report DLQs by error kind, and whether every kind is
/// there, each with a reason, after exactly one receive.
async fn poison_in_dlqs(
    sqs: &aws_sdk_sqs::Client,
    p: &local_stack::Provisioned,
) -> anyhow::Result<(BTreeMap<String, usize>, bool)> {
    let mut found: BTreeMap<String, usize> = BTreeMap::new();
    let mut ok = true;
    let mut total = 0;
    for dlq in ["ReportSuspiciousActivityDlq", "CreateZendeskTicketDlq"] {
        for (_, attrs) in peek_all(sqs, p.queue_url(dlq)?).await? {
            let kind = attrs.get("error_kind").cloned().unwrap_or_else(|| "(none)".to_owned());
            if kind == "provider_auth_failed" {
                continue; // the refused reports, redriven later
            }
            total += 1;
            let receives = attrs.get("receive_count").map(String::as_str);
            if receives != Some("1") || attrs.get("error_reason").is_none_or(String::is_empty) {
                ok = false;
            }
            *found.entry(kind).or_default() += 1;
        }
    }
    Ok((found, ok && total == poison().len()))
}

/// Dead letters in the report pipeline's DLQs whose failure was retryable: each one
/// a record whose whole retry budget ran out.
async fn retryable_dead_letters(sqs: &aws_sdk_sqs::Client, p: &local_stack::Provisioned) -> anyhow::Result<usize> {
    let mut n = 0;
    for dlq in ["ReportSuspiciousActivityDlq", "CreateZendeskTicketDlq", "SendTxmaEventDlq", "SendNotifyEmailDlq"] {
        n += peek_all(sqs, p.queue_url(dlq)?)
            .await?
            .iter()
            .filter(|(_, attrs)| attrs.get("error_class").map(String::as_str) == Some("retryable"))
            .count();
    }
    Ok(n)
}

async fn in_flight_of(sqs: &aws_sdk_sqs::Client, url: &str) -> anyhow::Result<u64> {
    let out = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await?;
    Ok(out
        .attributes()
        .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesNotVisible))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0))
}

async fn peek_all(sqs: &aws_sdk_sqs::Client, url: &str) -> anyhow::Result<Vec<(String, Attrs)>> {
    let mut out = Vec::new();
    let mut handles = Vec::new();
    loop {
        let got = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .visibility_timeout(20)
            .message_attribute_names("All")
            .send()
            .await?;
        if got.messages().is_empty() {
            break;
        }
        for m in got.messages() {
            let attrs: Attrs = m
                .message_attributes()
                .map(|a| a.iter().filter_map(|(k, v)| Some((k.clone(), v.string_value()?.to_owned()))).collect())
                .unwrap_or_default();
            out.push((m.body().unwrap_or_default().to_owned(), attrs));
            handles.extend(m.receipt_handle().map(str::to_owned));
        }
    }
    for h in handles {
        sqs.change_message_visibility().queue_url(url).receipt_handle(h).visibility_timeout(0).send().await?;
    }
    Ok(out)
}

async fn drain_bodies(sqs: &aws_sdk_sqs::Client, url: &str) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    loop {
        let got = sqs.receive_message().queue_url(url).max_number_of_messages(10).send().await?;
        if got.messages().is_empty() {
            return Ok(out);
        }
        for m in got.messages() {
            out.push(m.body().unwrap_or_default().to_owned());
            if let Some(h) = m.receipt_handle() {
                sqs.delete_message().queue_url(url).receipt_handle(h).send().await?;
            }
        }
    }
}

/// Log lines carrying an email address, a provider secret, a bearer token, or any
/// of the run's own `secrets` (approval link tokens, approver addresses, workflow data).
pub fn scan_logs(lines: &[String], secrets: &[String]) -> Vec<String> {
    let fixed = [
        local_stack::LOCAL_ZENDESK_TOKEN,
        local_stack::LOCAL_NOTIFY_SECRET,
        "@example.gov.uk",
        "@example.org",
        "Bearer ",
        "Basic ",
        "eyJ",
    ];
    lines
        .iter()
        .filter(|l| fixed.iter().any(|s| l.contains(s)) || secrets.iter().any(|s| l.contains(s.as_str())))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn healthy() -> ChaosOutcome {
        ChaosOutcome {
            workflows: 2,
            completed: 2,
            poison_ok: true,
            retry_after: outages::RetryAfterCheck { checked: 1, ..Default::default() },
            ..Default::default()
        }
    }

    #[test]
    fn a_healthy_run_passes() {
        assert!(healthy().ok(), "{}", healthy().summary());
    }

    #[test]
    fn a_duplicate_email_fails_the_verdict() {
        let refs = ["r-1".to_owned(), "r-2".to_owned(), "r-1".to_owned()];
        let distinct = refs.iter().collect::<BTreeSet<_>>().len();
        let outcome = ChaosOutcome { emails: distinct, duplicate_emails: refs.len() - distinct, ..healthy() };
        assert_eq!(outcome.duplicate_emails, 1);
        assert!(!outcome.ok(), "{}", outcome.summary());
    }

    #[test]
    fn an_outage_dead_letter_or_an_early_retry_fails_the_verdict() {
        assert!(!ChaosOutcome { outage_dead_letters: 1, ..healthy() }.ok());
        let early = outages::RetryAfterCheck { checked: 1, violations: vec!["r: early".into()], ..Default::default() };
        assert!(!ChaosOutcome { retry_after: early, ..healthy() }.ok());
        let untimed = outages::RetryAfterCheck::default();
        assert!(!ChaosOutcome { retry_after: untimed, ..healthy() }.ok(), "a run that timed nothing proves nothing");
    }
}
