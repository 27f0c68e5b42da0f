//! Issue 15: nothing silently stuck. For every workflow kind and every stuck state,
//! an item seeded in that state past its limit is listed by `ops stuck` and counted
//! by the stuck-detector's metric, one inside its limit is not; and `ops workflow
//! redrive` moves stuck workflows on to completion through the real pipeline on the
//! local stack (the step binaries, SNS, the FIFO queue, the on-prem processor, the
//! fakes) with no duplicate side effect, while a redrive of a workflow that is not
//! stuck changes nothing and says so.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use approvals::dynamo::DynamoApprovalStore;
use approvals::ports::{DecisionStore, DecisionWrite, EffectStore, ExecutionStore, RequestStore};
use approvals::{ApprovalRequest, Decision, NewRequest, Submission, Token};
use audit::dynamo::DynamoWorkflows;
use audit::ports::WorkflowStore;
use chrono::{DateTime, Utc};
use contacts::dynamo::DynamoContactStore;
use contacts::ports::ContactStore;
use contacts::{Channel, Contact, ContactId, ContactState, ContactView, InstanceId, RecordingSetting};
use integration_tests::{bin_dir, eventually, function_binary, time_scale, Driver};
use local_stack::{InvokeOutcome, StackOptions};
use ops::redrive::{Item, Outcome, Stores};
use ops::stack::StackMap;
use reports::dynamo::DynamoReportStore;
use reports::ports::{ReportReader, ReportStore};
use serde_json::{json, Value};
use stuck::redrive::Plan;
use stuck::{Kind, Limits, StuckState};

const WAIT: Duration = Duration::from_secs(60);
/// The Connect instance the local stack's template names.
const INSTANCE: &str = "5e7c0a11-0003-4003-8003-00000000c0a1";

fn ago(minutes: i64) -> DateTime<Utc> {
    Utc::now() - chrono::Duration::minutes(minutes)
}

fn uid() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

fn map(d: &Driver) -> StackMap {
    let template = local_stack::find_workspace_root().join("infra/template.yaml");
    StackMap::load(&template, &d.stack().context().stack_name, &d.stack().context().region).expect("stack map")
}

/// Writes items straight into the tables, as a crash or a lost message leaves them.
struct Seed<'a> {
    d: &'a Driver,
    reports: DynamoReportStore,
    approvals: DynamoApprovalStore,
    contacts: DynamoContactStore,
    workflows: DynamoWorkflows,
}

impl<'a> Seed<'a> {
    fn new(d: &'a Driver) -> Self {
        Self {
            d,
            reports: DynamoReportStore::new(d.dynamodb(), d.table("ReportsTable"), d.table("ActivityTable")),
            approvals: DynamoApprovalStore::new(d.dynamodb(), d.table("ApprovalsTable")),
            contacts: DynamoContactStore::new(d.dynamodb(), d.table("ContactsTable")),
            workflows: DynamoWorkflows::new(d.dynamodb(), d.table("WorkflowsTable")),
        }
    }

    /// A report marked `minutes` ago whose `report.requested` never went out.
    async fn report(&self, minutes: i64) -> String {
        use activity::LoginRecorder;
        let user = self.d.unique_user();
        let activity = activity::dynamo::DynamoActivityStore::new(self.d.dynamodb(), self.d.table("ActivityTable"));
        let raw = activity::RawLoginEvent {
            user_id: user.clone(),
            service_id: "svc".into(),
            service_name: "S".into(),
            timestamp: "2024-06-01T10:00:00Z".into(),
            event_id: Some("evt-1".into()),
            session_id: None,
        };
        activity.record(&activity::LoginEvent::parse(raw, Utc::now()).expect("event")).await.expect("recorded");
        let req = reports::ReportRequest::parse(reports::ReportSubmission {
            report_id: uuid::Uuid::new_v4().to_string(),
            user_id: user,
            email: format!("reporter.{}@example.gov.uk", uid()),
            event_ids: vec!["evt-1".into()],
            reported_at: ago(minutes),
        })
        .expect("request");
        self.reports.mark_reported(&req, &format!("corr-{}", uid()), ago(minutes)).await.expect("marked");
        req.report_id.to_string()
    }

    /// An approval request in `state`, that state entered `minutes` ago (its
    /// announcement's first due time, its enqueue, its EXECUTING).
    async fn approval(&self, state: StuckState, minutes: i64) -> String {
        let id = format!("stuck-{}", uid());
        let tag = uid();
        let sub: Submission = serde_json::from_value(json!({
            "request_id": id, "issue_id": "INC-stuck", "action": "restart-service",
            "action_parameters": {"service": "billing"},
            "approvers": [format!("first.{tag}@example.org"), format!("second.{tag}@example.org")],
            "expires_in_minutes": 24 * 60,
        }))
        .expect("submission");
        let start = ago(minutes + 2);
        let mut req = ApprovalRequest::new(&NewRequest::parse(sub, start).expect("valid"));
        let token = Token::generate().expect("random");
        if state != StuckState::ApprovalEmails {
            for a in req.approvers.iter_mut() {
                a.emailed_at = Some(start);
            }
            req.approvers[0].token_hash = Some(token.hash().to_hex());
            req.emails_sent_at = Some(start);
            req.outbox = None;
        }
        let first_due = if state == StuckState::ApprovalEmails { ago(minutes) } else { start };
        self.approvals.create(&req, first_due).await.expect("created");
        if state == StuckState::ApprovalEmails {
            return id;
        }
        let decided_at = if state == StuckState::ApprovalEnqueue { ago(minutes + 1) } else { start };
        let write = DecisionWrite {
            request_id: &id,
            approver: 0,
            token_hash: &token.hash(),
            decision: Decision::Approved,
            revoke: &[1],
            now: decided_at,
            outbox_due: if state == StuckState::ApprovalEnqueue { ago(minutes) } else { start },
        };
        assert_eq!(self.approvals.decide(&write).await.expect("decided"), approvals::ports::DecisionWritten::Won);
        if state == StuckState::ApprovalEnqueue {
            return id;
        }
        let enqueued = if state == StuckState::ApprovalPickup { ago(minutes) } else { start };
        assert!(self.approvals.mark_enqueued(&id, enqueued).await.expect("enqueued"));
        if state == StuckState::ApprovalExecuting {
            assert!(self.approvals.begin(&id, "lost-attempt", ago(minutes)).await.expect("begun"));
        }
        id
    }

    /// A contact in `state` (not ended, or an agent call ended `minutes` ago,
    /// unchecked), first seen by its flow logs `minutes` ago (calls).
    async fn contact(&self, state: StuckState, minutes: i64) -> ContactId {
        let id = ContactId::parse(&uuid::Uuid::new_v4().to_string()).expect("id");
        let seen = if state == StuckState::ContactCall { ago(minutes) } else { ago(minutes + 60) };
        let on = RecordingSetting::new(seen, vec!["Agent".into(), "Customer".into()], false);
        let contact = Contact::from_settings(id.clone(), InstanceId::parse(INSTANCE).expect("instance"), [on], seen);
        self.contacts.initialise(&contact).await.expect("cached");
        if state == StuckState::ContactCheck {
            let view = ContactView {
                channel: Some(Channel::Voice),
                initiated_at: Some(ago(minutes + 30)),
                agent_connected_at: Some(ago(minutes + 20)),
                disconnected_at: Some(ago(minutes)),
            };
            assert!(self.contacts.advance(&id, ContactState::CompletedAgent, &view, Utc::now()).await.expect("moved"));
        }
        id
    }

    /// An audited workflow whose first action, accepted `minutes` ago, was never announced.
    async fn workflow(&self, minutes: i64) -> String {
        let id = uuid::Uuid::new_v4().to_string();
        let wf = audit::Workflow {
            workflow_id: id.clone(),
            scheme: "grants".into(),
            title: None,
            owner: "requester-1".into(),
            approvers: vec!["approver-1".into()],
            state: audit::WorkflowState::Draft,
            data: None,
            seq: 1,
            announced_seq: 0,
            last_event: None,
            created_at: ago(minutes),
            updated_at: ago(minutes),
            redrives: Vec::new(),
        };
        assert!(self.workflows.create(&wf).await.expect("created"));
        id
    }
}

/// How long before its limit "inside" is, and past it "past" is, per state.
fn ages(state: StuckState) -> (i64, i64) {
    let limit = Limits::default().get(state).num_minutes();
    (limit / 2, limit + 5)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_stuck_state_is_listed_and_counted_past_its_limit_and_not_inside_it() {
    // The functions run (the detector is invoked), but nothing consumes a queue
    // and no schedule fires: the seeded items stay where they are.
    let options = StackOptions::default().with_bin_dir(bin_dir()).without_pollers().without_schedules().quiet();
    let d = Driver::start_with(options).await;
    let seed = Seed::new(&d);
    let mut past: BTreeSet<(StuckState, String)> = BTreeSet::new();
    let mut inside: BTreeSet<String> = BTreeSet::new();
    for state in StuckState::ALL {
        let (young, old) = ages(state);
        for (minutes, into) in [(old, true), (young, false)] {
            let id = match state.kind() {
                Kind::Report => seed.report(minutes).await,
                Kind::Approval => seed.approval(state, minutes).await,
                Kind::Contact => seed.contact(state, minutes).await.to_string(),
                Kind::Workflow => seed.workflow(minutes).await,
            };
            if into && matches!(state, StuckState::ApprovalEmails | StuckState::ApprovalEnqueue) {
                // The sweep re-announced it a moment ago, as it does every 5 minutes:
                // that moves `outbox_due` on, not the wait's first due time.
                use approvals::ports::Outbox;
                let event = if state == StuckState::ApprovalEmails {
                    approvals::state::OutboxEvent::Requested
                } else {
                    approvals::state::OutboxEvent::Decided
                };
                seed.approvals
                    .postpone(&id, event, Utc::now() + chrono::Duration::minutes(5))
                    .await
                    .expect("postponed");
            }
            if into {
                past.insert((state, id));
            } else {
                inside.insert(id);
            }
        }
    }

    // ops stuck: exactly the ones past their limit, each in its state.
    let m = map(&d);
    let sources = ops::stuck::sources(&d.dynamodb(), &m);
    let found = ops::stuck::check(&sources, &[], &ops::stuck::limits(&m, None).expect("limits")).await;
    assert!(found.failed.is_empty(), "{:?}", found.failed);
    let listed: BTreeSet<(StuckState, String)> = found.all().map(|f| (f.state, f.id.clone())).collect();
    assert_eq!(listed, past, "listed: exactly the items past their state's limit");
    assert!(listed.iter().all(|(_, id)| !inside.contains(id)));

    // The detector: the same count per kind, as its answer and as EMF per kind.
    let answer = d.stack().invoke("stuck-detector", json!({})).await.expect("invoked");
    let answer = answer.into_result().unwrap_or_else(|e| panic!("the detector failed: {e}"));
    for kind in Kind::ALL {
        let expected = past.iter().filter(|(s, _)| s.kind() == kind).count();
        assert_eq!(answer[kind.as_str()], json!(expected), "{kind}: {answer}");
        eventually(&format!("StuckWorkflows for {kind} written as EMF"), WAIT, || async {
            d.function_logs("stuck-detector")
                .iter()
                .filter_map(|line| serde_json::from_str::<Value>(line).ok())
                .any(|v| v["kind"] == kind.as_str() && v["StuckWorkflows"] == json!([expected as f64]))
                .then_some(())
        })
        .await;
    }
}

/// The on-prem action processor as a child process (its action appends to a marker).
struct Processor {
    _child: tokio::process::Child,
    marker: PathBuf,
}

impl Processor {
    fn start(d: &Driver) -> Self {
        let dir = std::env::temp_dir().join(format!("stuck-processor-{}", uid()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let marker = dir.join("marker");
        let script = dir.join("action.sh");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\ncat > /dev/null\necho \"ran $APPROVAL_REQUEST_ID\" >> {}\necho done\n",
                marker.display()
            ),
        )
        .expect("script");
        let status = std::process::Command::new("chmod").arg("+x").arg(&script).status().expect("chmod");
        assert!(status.success());
        let (key, secret) = d.stack().principal_credentials("approval-processor").expect("the processor's principal");
        let child = tokio::process::Command::new(function_binary("action-processor"))
            .env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("AWS_ENDPOINT_URL", d.stack().proxy_endpoint())
            .env("AWS_REGION", &d.stack().context().region)
            .env("AWS_ACCESS_KEY_ID", &key)
            .env("AWS_SECRET_ACCESS_KEY", &secret)
            .env("DECISIONS_QUEUE_URL", d.queue_url("ApprovalDecisionsQueue"))
            .env("APPROVAL_API_URL", d.stack().http_url())
            .env("APPROVAL_API_AUTH", "sigv4")
            .env("EXECUTOR", "command")
            .env("EXECUTOR_COMMAND", &script)
            .env("STATE_DIR", dir.join("state"))
            .env(kit::retry::TIME_SCALE_VAR, integration_tests::TIME_SCALE.to_string())
            .env("VISIBILITY_TIMEOUT_SECS", "2")
            .env("WAIT_TIME_SECS", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("the processor starts");
        Self { _child: child, marker }
    }

    fn runs(&self, id: &str) -> usize {
        std::fs::read_to_string(&self.marker).unwrap_or_default().lines().filter(|l| *l == format!("ran {id}")).count()
    }
}

/// Redrives as `ops workflow redrive` does: loads the item, plans, sends, records.
struct Redriver {
    sqs: aws_sdk_sqs::Client,
    map: StackMap,
    stores: Stores,
    limits: Limits,
}

impl Redriver {
    fn new(d: &Driver) -> Self {
        let map = map(d);
        let stores = Stores::new(&d.dynamodb(), &map);
        let limits = ops::stuck::limits(&map, None).expect("limits");
        Self { sqs: d.sqs(), map, stores, limits }
    }

    async fn item(&self, kind: Kind, id: &str) -> Item {
        self.stores.load(kind, id).await.expect("read").unwrap_or_else(|| panic!("no {kind} {id}"))
    }

    async fn redrive(&self, kind: Kind, id: &str, force: bool) -> Outcome {
        let item = self.item(kind, id).await;
        let ctx = ops::redrive::context(&self.limits, force, "oncall@example", Utc::now());
        ops::redrive::redrive(&self.sqs, &self.map, &self.stores, &item, &ctx, false).await.expect("redrive")
    }

    /// Redrives a stuck workflow: something is sent.
    async fn sends(&self, kind: Kind, id: &str, force: bool) -> Vec<&'static str> {
        let o = self.redrive(kind, id, force).await;
        match &o.plan {
            Plan::Send { messages, .. } if o.sent => messages.iter().map(|m| m.step).collect(),
            other => panic!("{kind} {id}: expected a redrive, got {other:?}"),
        }
    }

    /// A redrive of a workflow that is not stuck: nothing sent, nothing recorded.
    async fn refuses(&self, kind: Kind, id: &str) {
        let before = self.redrives(kind, id).await;
        let o = self.redrive(kind, id, true).await;
        assert!(matches!(o.plan, Plan::NotStuck(_)) && !o.sent, "{kind} {id}: {:?}", o.plan);
        assert_eq!(self.redrives(kind, id).await, before, "{kind} {id}: nothing recorded");
    }

    async fn redrives(&self, kind: Kind, id: &str) -> usize {
        match self.item(kind, id).await {
            Item::Report(r, _) => r.redrives.len(),
            Item::Approval(r) => r.redrives.len(),
            Item::Contact(c) => c.redrives.len(),
            Item::Workflow(w) => w.redrives.len(),
        }
    }
}

/// The emails SES (the emulator) accepted, by recipient.
async fn emails_to(d: &Driver, address: &str) -> usize {
    let url = format!("{}/moto-api/data.json", d.stack().endpoint());
    let data: Value = reqwest::get(url).await.expect("moto data").json().await.expect("JSON");
    data["ses"]["Message"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["destinations"]["ToAddresses"].as_array().is_some_and(|to| to.iter().any(|a| a == address)))
        .count()
}

async fn report_status(seed: &Seed<'_>, id: &str) -> reports::ReportStatus {
    let uuid = uuid::Uuid::parse_str(id).expect("uuid");
    ReportReader::get(&seed.reports, &uuid).await.expect("read").expect("report").status
}

async fn approval(seed: &Seed<'_>, id: &str) -> ApprovalRequest {
    RequestStore::get(&seed.approvals, id).await.expect("read").expect("request")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_redrive_moves_each_kind_on_to_completion_once_and_leaves_the_rest_alone() {
    // The whole pipeline runs, but no schedule: nothing repairs a workflow but the redrive.
    let options = StackOptions::default()
        .with_bin_dir(bin_dir())
        .with_time_scale(time_scale())
        .with_parameter("RecordingGraceSeconds", "3")
        .without_schedules()
        .quiet();
    let d = Driver::start_with(options).await;
    let seed = Seed::new(&d);
    let r = Redriver::new(&d);

    // ---- report: stuck REQUESTED; redriven twice at once (the second forced while
    // the first is on its way): one ticket, one TxMA event, one email.
    let report = seed.report(30).await;
    assert_eq!(r.sends(Kind::Report, &report, false).await, ["create-zendesk-ticket"]);
    let again = r.sends(Kind::Report, &report, true).await;
    assert!(!again.is_empty());
    eventually("the redriven report completed", WAIT, || async {
        (report_status(&seed, &report).await == reports::ReportStatus::Completed).then_some(())
    })
    .await;
    d.wait_queues_drained(&["CreateZendeskTicketQueue", "SendTxmaEventQueue", "SendNotifyEmailQueue"], WAIT).await;
    assert_eq!(d.zendesk_tickets(Some(&report)).await.len(), 1, "one ticket");
    assert_eq!(d.notify_emails(Some(&report)).await.len(), 1, "one email");
    let txma = d.messages_in("TxmaQueue").await;
    assert_eq!(txma.iter().filter(|m| m.body.contains(&report)).count(), 1, "one TxMA event");
    assert_eq!(r.redrives(Kind::Report, &report).await, 2, "each redrive recorded");
    assert!(
        seed.reports.stored_email(&uuid::Uuid::parse_str(&report).unwrap()).await.unwrap().is_none(),
        "completed: the email is gone"
    );
    r.refuses(Kind::Report, &report).await;

    // ---- audited workflow: its API's publish fails (SNS down): the action is
    // accepted, never announced. The redrive goes through announce-workflow.
    let requester = d.unique_user();
    d.inject_fault("Publish", 3, 500, "InternalError").await;
    let (status, body) = d
        .call_as(
            "POST",
            "/workflows",
            &requester,
            &["requester"],
            Some(&json!({"scheme": "grants", "approvers": ["approver-1"]})),
        )
        .await;
    assert_eq!(status, 503, "not announced: {body}");
    assert_eq!(d.remaining_faults().await, 0);
    let workflows = seed.workflows.unannounced_before(Utc::now() + chrono::Duration::seconds(1), 10).await.unwrap();
    let [workflow] = workflows.as_slice() else { panic!("one unannounced workflow: {workflows:?}") };
    assert!(matches!(r.redrive(Kind::Workflow, workflow, false).await.plan, Plan::NotStuck(_)), "within its limit");
    assert_eq!(r.sends(Kind::Workflow, workflow, true).await, ["announce-workflow"]);
    eventually("the action announced by the redrive", WAIT, || async {
        let wf = WorkflowStore::get(&seed.workflows, workflow).await.ok()??;
        (wf.is_announced() && wf.redrives.len() == 1).then_some(())
    })
    .await;
    d.wait_queues_drained(&["AnnounceWorkflowQueue", "CreateAuditRecordQueue", "SendNotificationQueue"], WAIT).await;
    let (status, check) =
        d.call_as("GET", &format!("/audit/verify?workflow_id={workflow}"), "auditor-1", &["auditor"], None).await;
    assert_eq!(status, 200, "{check}");
    assert_eq!(
        (check["valid"].clone(), check["records"].clone()),
        (json!(true), json!(1)),
        "one audit record: {check}"
    );
    let (_, mine) = d.call_as("GET", &format!("/users/{requester}/notifications"), &requester, &[], None).await;
    assert_eq!(mine["items"].as_array().map(Vec::len), Some(1), "one notification: {mine}");
    r.refuses(Kind::Workflow, workflow).await;

    // ---- contacts: an agent call never checked; a call never polled.
    let unchecked = seed.contact(StuckState::ContactCheck, 30).await;
    assert_eq!(r.sends(Kind::Contact, unchecked.as_str(), false).await, ["check-recording"]);
    eventually("the call's recording checked", WAIT, || async {
        let c = ContactStore::get(&seed.contacts, &unchecked).await.ok()??;
        (c.recording_state.is_some() && c.alert_sent_at.is_some()).then_some(())
    })
    .await;
    r.refuses(Kind::Contact, unchecked.as_str()).await;
    let alerts = |id: ContactId| {
        let d = &d;
        async move {
            d.messages_in("RecordingMissingAlertsQueue").await.iter().filter(|m| m.body.contains(id.as_str())).count()
        }
    };
    assert_eq!(alerts(unchecked.clone()).await, 1, "one alert");

    let unpolled = seed.contact(StuckState::ContactCall, 5 * 60).await;
    let connect = d.stack().connect_url().expect("the Connect fake");
    let mut fixture: Value =
        serde_json::from_str(include_str!("../../events/poll-contact/completed-agent.json")).expect("fixture");
    fixture["Contact"]["Id"] = json!(unpolled.as_str());
    let scripted = reqwest::Client::new()
        .post(format!("{connect}/__contacts"))
        .json(&json!({"instance_id": INSTANCE, "contact_id": unpolled.as_str(), "response": fixture}))
        .send()
        .await
        .expect("scripted");
    assert_eq!(scripted.status(), 201);
    assert_eq!(r.sends(Kind::Contact, unpolled.as_str(), false).await, ["poll-contact"]);
    eventually("the call polled and, by the next sweep, checked", WAIT, || async {
        // A sweep that fails is a finding, not something to poll through.
        match d.stack().invoke("recording-sweep", json!({})).await {
            Ok(InvokeOutcome::Ok(_)) => {}
            other => panic!("recording-sweep failed: {other:?}"),
        }
        let c = ContactStore::get(&seed.contacts, &unpolled).await.ok()??;
        c.recording_state.is_some().then_some(())
    })
    .await;
    r.refuses(Kind::Contact, unpolled.as_str()).await;

    // ---- approvals: emails never sent; a decision never enqueued; one enqueued and
    // never picked up; one EXECUTING whose processor lost it. The processor runs each
    // approved action at most once, and never the interrupted one.
    let processor = Processor::start(&d);
    let unsent = seed.approval(StuckState::ApprovalEmails, 30).await;
    assert_eq!(r.sends(Kind::Approval, &unsent, false).await, ["send-approval-emails"]);
    eventually("the approval emails sent", WAIT, || async {
        approval(&seed, &unsent).await.emails_sent_at.is_some().then_some(())
    })
    .await;
    for a in &approval(&seed, &unsent).await.approvers {
        assert_eq!(emails_to(&d, &a.email).await, 1, "one email per approver");
    }
    r.refuses(Kind::Approval, &unsent).await;

    let mut ran = Vec::new();
    for (state, step) in [
        (StuckState::ApprovalEnqueue, "enqueue-decision"),
        (StuckState::ApprovalPickup, "action-processor"),
        (StuckState::ApprovalExecuting, "action-processor"),
    ] {
        let id = seed.approval(state, 30).await;
        assert_eq!(r.sends(Kind::Approval, &id, false).await, [step], "{state}");
        let status = eventually(&format!("{state}: the request finished"), WAIT, || async {
            let s = approval(&seed, &id).await.status;
            matches!(s, approvals::Status::Executed | approvals::Status::Failed).then_some(s)
        })
        .await;
        if state == StuckState::ApprovalExecuting {
            assert_eq!(status, approvals::Status::Failed, "interrupted: reported, never run");
            assert_eq!(processor.runs(&id), 0);
        } else {
            assert_eq!(status, approvals::Status::Executed);
            ran.push(id.clone());
        }
        r.refuses(Kind::Approval, &id).await;
    }
    d.wait_queues_drained(&["EnqueueDecisionQueue", "ApprovalDecisionsQueue"], WAIT).await;
    for id in &ran {
        assert_eq!(processor.runs(id), 1, "{id}: run once");
    }
}

/// The CLI: a dry run shows the step and the message (addresses redacted) and
/// sends nothing; the redrive prints what it sent; `ops workflow <id>` shows it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ops_workflow_redrive_dry_run_sends_nothing_and_the_timeline_shows_the_redrive() {
    let options = StackOptions::default().with_bin_dir(bin_dir()).without_pollers().without_schedules().quiet();
    let d = Driver::start_with(options).await;
    let seed = Seed::new(&d);
    let report = seed.report(30).await;
    let ops = |args: &[&str]| {
        let out = std::process::Command::new(ops_binary())
            .args(["--stack", &d.stack().context().stack_name, "--template"])
            .arg(local_stack::find_workspace_root().join("infra/template.yaml"))
            .args(args)
            .env("AWS_ENDPOINT_URL", d.stack().endpoint())
            .env("AWS_REGION", &d.stack().context().region)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("OPS_USER", "jane.oncall")
            .output()
            .expect("ops runs");
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let queue = d.queue_url("CreateZendeskTicketQueue");
    let (code, out) = ops(&["workflow", "redrive", &report, "--dry-run"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("would send report.requested") && out.contains("create-zendesk-ticket"), "{out}");
    assert!(out.contains("<email>") && !out.contains("@example.gov.uk"), "addresses redacted: {out}");
    assert_eq!(local_stack::queues::depth(&d.sqs(), &queue).await.unwrap(), 0, "a dry run sends nothing");

    let (code, out) = ops(&["workflow", "redrive", &report]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("sent report.requested"), "{out}");
    assert_eq!(local_stack::queues::depth(&d.sqs(), &queue).await.unwrap(), 1, "sent to the step's queue");
    let (_, timeline) = ops(&["workflow", &report]);
    assert!(timeline.contains("redrive → create-zendesk-ticket") && timeline.contains("by jane.oncall"), "{timeline}");

    let (code, out) = ops(&["stuck", "--kind", "report"]);
    assert_eq!(code, Some(3), "still stuck (nothing consumes the queue here): {out}");
    // `ops stuck --redrive`: everything listed, paced, with a summary.
    let (code, out) = ops(&["stuck", "--kind", "report", "--redrive", "--rate", "20"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("sent to create-zendesk-ticket") && out.contains("redriven: 1 · failed: 0"), "{out}");
    assert_eq!(local_stack::queues::depth(&d.sqs(), &queue).await.unwrap(), 2, "sent again");
    let fresh = seed.report(1).await;
    let (code, out) = ops(&["workflow", "redrive", &fresh]);
    assert_eq!(code, Some(0));
    assert!(out.contains("not stuck") && out.contains("nothing changed"), "{out}");
    assert_eq!(local_stack::queues::depth(&d.sqs(), &queue).await.unwrap(), 2, "nothing more sent");
}

fn ops_binary() -> PathBuf {
    let path: &Path = &bin_dir().join("ops");
    assert!(path.exists(), "{} is missing: run `cargo build --workspace --bins` first", path.display());
    path.to_owned()
}

/// The processor can take a decision off the FIFO queue before enqueue-decision
/// records the enqueue: the request must then wait for the execution's outcome,
/// not for a pickup that has happened (a finished request would stay in the index
/// for ever, and page). And an announcement's confirmation ends only its own wait.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_awaiting_index_follows_the_request_whatever_order_the_writes_come_in() {
    use approvals::dynamo::keys as k;
    let d = Driver::start_resources_only().await;
    let seed = Seed::new(&d);
    let awaiting = |id: String| {
        let d = &d;
        async move {
            let item = d
                .dynamodb()
                .get_item()
                .table_name(d.table("ApprovalsTable"))
                .key(k::REQUEST_ID, aws_sdk_dynamodb::types::AttributeValue::S(id))
                .consistent_read(true)
                .send()
                .await
                .expect("GetItem")
                .item
                .expect("the request");
            item.get(k::AWAITING).and_then(|v| v.as_s().ok()).cloned()
        }
    };
    let id = seed.approval(StuckState::ApprovalEnqueue, 1).await;
    assert_eq!(awaiting(id.clone()).await.as_deref(), Some("enqueue"));
    // A late confirmation of the (long gone) emails announcement ends nothing.
    approvals::ports::Outbox::clear(&seed.approvals, &id, approvals::state::OutboxEvent::Requested).await.unwrap();
    assert_eq!(awaiting(id.clone()).await.as_deref(), Some("enqueue"));
    // The processor first, then the enqueue's record.
    assert!(seed.approvals.begin(&id, "attempt-1", Utc::now()).await.unwrap());
    assert!(seed.approvals.mark_enqueued(&id, Utc::now()).await.unwrap(), "recorded all the same");
    assert_eq!(awaiting(id.clone()).await.as_deref(), Some("execution"), "not back to waiting for a pickup");
    assert!(!seed.approvals.mark_enqueued(&id, Utc::now()).await.unwrap(), "once");
    let finished = ExecutionStore::finish(
        &seed.approvals,
        &id,
        "attempt-1",
        approvals::ExecutionOutcome::Executed,
        "ok",
        Utc::now(),
    )
    .await
    .unwrap();
    assert!(finished);
    assert_eq!(awaiting(id.clone()).await, None, "finished: off the index");
    let m = map(&d);
    let found = ops::stuck::check(
        &ops::stuck::sources(&d.dynamodb(), &m),
        &[Kind::Approval],
        &Limits::uniform(chrono::Duration::zero()),
    )
    .await;
    assert_eq!(found.count(Kind::Approval), Some(0), "{:?}", found.findings);
}
