//! Each kind's stuck states: an item past its limit is stuck, one inside it is not,
//! a finished one never is; and a check reads each state's index with its own
//! cutoff and reports a kind it could not read.

use std::sync::Mutex;

use approvals::state::{DecisionRecord, Execution};
use approvals::{ApprovalRequest, AwaitedStep, Awaiting, Decision, NewRequest, Status, Submission};
use async_trait::async_trait;
use audit::{Workflow, WorkflowState};
use chrono::{DateTime, Duration, Utc};
use contacts::{Contact, ContactId, ContactState, InstanceId, RecordingSetting, RecordingState};
use reports::Report;

use crate::kind::{Kind, StuckState};
use crate::limits::Limits;
use crate::rules;
use crate::sources::{SourceError, Sources};

fn now() -> DateTime<Utc> {
    "2024-06-01T12:00:00Z".parse().unwrap()
}

fn ago(minutes: i64) -> DateTime<Utc> {
    now() - Duration::minutes(minutes)
}

fn report(status: &str, requested_minutes_ago: i64) -> Report {
    serde_json::from_value(serde_json::json!({
        "report_id": "8d0c7a4e-3b1f-4f5e-9a61-0c2b8e7d9f10", "user_id": "u", "status": status,
        "event_ids": ["e"], "reported_at": ago(requested_minutes_ago), "requested_at": ago(requested_minutes_ago),
    }))
    .unwrap()
}

#[test]
fn a_report_open_past_its_limit_is_stuck_inside_it_or_finished_it_is_not() {
    let l = Limits::default();
    for status in ["REQUESTED", "TICKET_CREATED", "FAILED"] {
        let stuck = rules::report(&report(status, 16), now(), &l).unwrap_or_else(|| panic!("{status}: stuck"));
        assert_eq!(stuck.state, StuckState::ReportOpen);
        assert_eq!(stuck.since, ago(16));
        assert!(rules::report(&report(status, 14), now(), &l).is_none(), "{status}: inside its limit");
    }
    for status in ["COMPLETED", "REJECTED"] {
        assert!(rules::report(&report(status, 600), now(), &l).is_none(), "{status} is final");
    }
    let waiting = rules::report(&report("REQUESTED", 16), now(), &l).unwrap().waiting_for;
    assert_eq!(waiting, "create-zendesk-ticket");
    let mut r = report("TICKET_CREATED", 16);
    r.ticket_id = Some(1);
    r.txma_event_id = Some("t".into());
    assert_eq!(rules::report(&r, now(), &l).unwrap().waiting_for, "send-notify-email");
}

fn request(created_minutes_ago: i64) -> ApprovalRequest {
    let sub: Submission = serde_json::from_value(serde_json::json!({
        "request_id": "r-1", "issue_id": "INC-1", "action": "restart",
        "approvers": ["a@example.org", "b@example.org"], "expires_in_minutes": 24 * 60,
    }))
    .unwrap();
    ApprovalRequest::new(&NewRequest::parse(sub, ago(created_minutes_ago)).unwrap())
}

fn decided(decision: Decision, minutes_ago: i64) -> ApprovalRequest {
    let mut r = request(minutes_ago + 5);
    r.status = decision.status();
    r.decision = Some(DecisionRecord { decision, decided_at: ago(minutes_ago), decided_by: 0 });
    r.emails_sent_at = Some(ago(minutes_ago + 4));
    r
}

#[test]
fn approval_emails_age_from_the_first_due_time_not_the_latest_re_publish() {
    let l = Limits::default();
    // Created an hour ago, first due 58 minutes ago; the sweep re-published a minute
    // ago (that moved `outbox_due`, not the first due time).
    let mut r = request(60);
    r.awaiting = Some(Awaiting { step: AwaitedStep::Emails, since: ago(58) });
    let f = rules::approval(&r, now(), &l).expect("emails undelivered for 58 minutes");
    assert_eq!((f.state, f.since), (StuckState::ApprovalEmails, ago(58)));
    r.awaiting = Some(Awaiting { step: AwaitedStep::Emails, since: ago(14) });
    assert!(rules::approval(&r, now(), &l).is_none(), "inside its 15 minutes");
    // Sent: waiting for a person now, not for the pipeline.
    r.awaiting = Some(Awaiting { step: AwaitedStep::Emails, since: ago(58) });
    r.emails_sent_at = Some(ago(50));
    assert!(rules::approval(&r, now(), &l).is_none());
    // Expired unsent: final (EXPIRED), nothing to move on.
    let mut expired = request(60);
    expired.expires_at = ago(1);
    assert!(rules::approval(&expired, now(), &l).is_none());
}

#[test]
fn a_decision_not_enqueued_then_not_picked_up_then_not_finished() {
    let l = Limits::default();
    for decision in [Decision::Approved, Decision::Rejected] {
        let mut r = decided(decision, 30);
        r.awaiting = Some(Awaiting { step: AwaitedStep::Enqueue, since: ago(11) });
        assert_eq!(rules::approval(&r, now(), &l).unwrap().state, StuckState::ApprovalEnqueue);
        r.awaiting = Some(Awaiting { step: AwaitedStep::Enqueue, since: ago(9) });
        assert!(rules::approval(&r, now(), &l).is_none(), "inside its 10 minutes");

        r.decision_enqueued_at = Some(ago(16));
        let f = rules::approval(&r, now(), &l).expect("not picked up for 16 minutes");
        assert_eq!((f.state, f.since), (StuckState::ApprovalPickup, ago(16)));
        r.decision_enqueued_at = Some(ago(14));
        assert!(rules::approval(&r, now(), &l).is_none());
    }
    let mut rejected = decided(Decision::Rejected, 30);
    rejected.decision_enqueued_at = Some(ago(20));
    rejected.rejection_recorded_at = Some(ago(19));
    assert!(rules::approval(&rejected, now(), &l).is_none(), "the processor saw the rejection: final");

    let mut r = decided(Decision::Approved, 30);
    r.decision_enqueued_at = Some(ago(25));
    r.status = Status::Executing;
    r.execution = Some(Execution { attempt_id: "a".into(), started_at: ago(11), finished_at: None, output: None });
    let f = rules::approval(&r, now(), &l).expect("EXECUTING past the action timeout + 5 min");
    assert_eq!((f.state, f.since), (StuckState::ApprovalExecuting, ago(11)));
    r.execution = Some(Execution { attempt_id: "a".into(), started_at: ago(9), finished_at: None, output: None });
    assert!(rules::approval(&r, now(), &l).is_none());
    for done in [Status::Executed, Status::Failed, Status::Undeliverable] {
        r.status = done;
        assert!(rules::approval(&r, now(), &l).is_none(), "{done:?} is final");
    }
}

fn contact(state: ContactState, initialised_minutes_ago: i64) -> Contact {
    let on = RecordingSetting::new(ago(initialised_minutes_ago), vec!["Agent".into(), "Customer".into()], false);
    let mut c = Contact::from_settings(
        ContactId::parse("955c07e1-af64-4094-9c16-c59995ecdcbe").unwrap(),
        InstanceId::parse("bd7c61d1-6722-4b4f-8c9c-6253e5a85c32").unwrap(),
        [on],
        ago(initialised_minutes_ago),
    );
    c.state = state;
    c
}

#[test]
fn a_call_not_ended_past_the_longest_call_is_stuck() {
    let l = Limits::default();
    for state in [ContactState::Initialised, ContactState::InProgressQueue, ContactState::InProgressAgent] {
        let f = rules::contact(&contact(state, 241), now(), &l).unwrap_or_else(|| panic!("{state}: stuck"));
        assert_eq!(f.state, StuckState::ContactCall);
        assert!(rules::contact(&contact(state, 239), now(), &l).is_none(), "{state}: inside 4 h");
    }
    // A contact whose flows only turned recording off has no work: never stuck.
    let off = RecordingSetting::new(ago(600), vec![], false);
    let quiet = Contact::from_settings(
        ContactId::parse("955c07e1-af64-4094-9c16-c59995ecdcbe").unwrap(),
        InstanceId::parse("bd7c61d1-6722-4b4f-8c9c-6253e5a85c32").unwrap(),
        [off],
        ago(600),
    );
    assert!(rules::contact(&quiet, now(), &l).is_none());
}

#[test]
fn an_agent_call_unchecked_past_grace_and_two_sweeps_is_stuck_from_its_end() {
    let l = Limits::default();
    let mut c = contact(ContactState::CompletedAgent, 300);
    c.disconnected_at = Some(ago(26));
    let f = rules::contact(&c, now(), &l).expect("25 minutes after the call ended");
    assert_eq!((f.state, f.since), (StuckState::ContactCheck, ago(26)));
    c.disconnected_at = Some(ago(24));
    assert!(rules::contact(&c, now(), &l).is_none(), "the call is old, its end is not");
    c.disconnected_at = Some(ago(60));
    c.recording_state = Some(RecordingState::Recorded);
    assert!(rules::contact(&c, now(), &l).is_none(), "checked: final");
    c.recording_state = Some(RecordingState::Missing);
    assert_eq!(rules::contact(&c, now(), &l).unwrap().waiting_for, "check-recording's alert", "alert not out");
    c.alert_sent_at = Some(ago(59));
    assert!(rules::contact(&c, now(), &l).is_none());
    let mut queue = contact(ContactState::CompletedQueue, 600);
    queue.disconnected_at = Some(ago(599));
    assert!(rules::contact(&queue, now(), &l).is_none(), "nothing to check: the sweep deletes it");
}

fn workflow(seq: u64, announced: u64, minutes_ago: i64) -> Workflow {
    Workflow {
        workflow_id: "wf-1".into(),
        scheme: "grants".into(),
        title: None,
        owner: "alice".into(),
        approvers: vec!["bob".into()],
        state: WorkflowState::Requested,
        data: None,
        seq,
        announced_seq: announced,
        last_event: None,
        created_at: ago(600),
        updated_at: ago(minutes_ago),
        redrives: Vec::new(),
    }
}

#[test]
fn an_action_unannounced_past_its_limit_is_stuck() {
    let l = Limits::default();
    let f = rules::workflow(&workflow(2, 1, 16), now(), &l).expect("stuck");
    assert_eq!((f.state, f.id.as_str()), (StuckState::WorkflowAnnounce, "wf-1"));
    assert!(rules::workflow(&workflow(2, 1, 14), now(), &l).is_none());
    assert!(rules::workflow(&workflow(2, 2, 600), now(), &l).is_none(), "announced");
}

/// Holds items per index; records the cutoffs asked for.
#[derive(Default)]
struct Memory {
    reports: Vec<Report>,
    approvals: Vec<ApprovalRequest>,
    contacts: Vec<Contact>,
    workflows: Vec<Workflow>,
    asked: Mutex<Vec<(String, DateTime<Utc>)>>,
    broken: Option<Kind>,
}

#[derive(Debug, thiserror::Error)]
#[error("index unavailable")]
struct Unavailable;

impl Memory {
    fn ask(&self, what: impl Into<String>, cutoff: DateTime<Utc>, kind: Kind) -> Result<(), SourceError> {
        self.asked.lock().unwrap().push((what.into(), cutoff));
        match self.broken {
            Some(k) if k == kind => Err(SourceError::new(kind, Unavailable)),
            _ => Ok(()),
        }
    }
}

#[async_trait]
impl Sources for Memory {
    fn has(&self, _kind: Kind) -> bool {
        true
    }
    async fn open_reports(&self, cutoff: DateTime<Utc>, _limit: usize) -> Result<Vec<Report>, SourceError> {
        self.ask("reports", cutoff, Kind::Report)?;
        Ok(self.reports.iter().filter(|r| r.requested_at < cutoff).cloned().collect())
    }
    async fn approvals_awaiting(
        &self,
        step: AwaitedStep,
        cutoff: DateTime<Utc>,
        _limit: usize,
    ) -> Result<Vec<ApprovalRequest>, SourceError> {
        self.ask(step.as_str(), cutoff, Kind::Approval)?;
        Ok(self
            .approvals
            .iter()
            .filter(|r| r.awaiting.is_some_and(|a| a.step == step && a.since < cutoff))
            .cloned()
            .collect())
    }
    async fn contacts_pending(
        &self,
        state: ContactState,
        cutoff: DateTime<Utc>,
        _limit: usize,
    ) -> Result<Vec<Contact>, SourceError> {
        self.ask(state.as_str(), cutoff, Kind::Contact)?;
        Ok(self
            .contacts
            .iter()
            .filter(|c| c.pending_work() == Some(state) && c.initialised_at < cutoff)
            .cloned()
            .collect())
    }
    async fn unannounced_workflows(&self, cutoff: DateTime<Utc>, _limit: usize) -> Result<Vec<Workflow>, SourceError> {
        self.ask("workflows", cutoff, Kind::Workflow)?;
        Ok(self.workflows.iter().filter(|w| !w.is_announced() && w.updated_at < cutoff).cloned().collect())
    }
}

#[tokio::test]
async fn a_check_reads_each_state_with_its_own_cutoff_and_lets_the_rules_decide() {
    let mut executing = decided(Decision::Approved, 60);
    executing.status = Status::Executing;
    executing.execution =
        Some(Execution { attempt_id: "a".into(), started_at: ago(30), finished_at: None, output: None });
    // The index still says "processor" (its write raced), the item says EXECUTING.
    executing.awaiting = Some(Awaiting { step: AwaitedStep::Processor, since: ago(40) });
    let mut ended_recently = contact(ContactState::CompletedAgent, 300);
    ended_recently.disconnected_at = Some(ago(5));
    let memory = Memory {
        reports: vec![report("REQUESTED", 20)],
        approvals: vec![executing],
        contacts: vec![contact(ContactState::InProgressAgent, 300), ended_recently],
        workflows: vec![workflow(3, 2, 20)],
        ..Default::default()
    };
    let limits = Limits::default();
    let check = crate::check(&memory, &Kind::ALL, now(), &limits, 100).await;
    assert!(check.failed.is_empty());
    let states: Vec<StuckState> = check.all().map(|f| f.state).collect();
    assert_eq!(
        states,
        [StuckState::ReportOpen, StuckState::ApprovalExecuting, StuckState::ContactCall, StuckState::WorkflowAnnounce],
        "the contact that ended 5 minutes ago is a candidate by its first log line, not stuck by its end"
    );
    let asked = memory.asked.lock().unwrap().clone();
    let cutoff_of = |what: &str| asked.iter().find(|(w, _)| w == what).map(|(_, c)| *c).unwrap();
    assert_eq!(cutoff_of("emails"), now() - Duration::minutes(15));
    assert_eq!(cutoff_of("enqueue"), now() - Duration::minutes(10));
    assert_eq!(cutoff_of("execution"), now() - Duration::minutes(10));
    assert_eq!(cutoff_of("COMPLETED - AGENT"), now() - Duration::minutes(25));
    assert_eq!(cutoff_of("INITIALISED"), now() - Duration::hours(4));
}

#[tokio::test]
async fn a_kind_that_cannot_be_read_is_reported_not_counted_as_nothing() {
    let memory = Memory { broken: Some(Kind::Contact), reports: vec![report("REQUESTED", 20)], ..Default::default() };
    let check = crate::check(&memory, &Kind::ALL, now(), &Limits::default(), 100).await;
    assert_eq!(check.count(Kind::Report), Some(1));
    assert_eq!(check.count(Kind::Approval), Some(0), "read, nothing stuck");
    assert_eq!(check.count(Kind::Contact), None, "no count: its alarm sees missing data");
    assert_eq!(check.failed.len(), 1);
    assert_eq!(check.failed[0].kind, Kind::Contact);
}

mod redrive {
    use super::*;
    use crate::redrive::{self, Context, Plan};

    fn ctx(limits: &Limits, force: bool) -> Context<'_> {
        Context { now: now(), limits, force, by: "oncall@example" }
    }

    fn sent(plan: Plan) -> Vec<(String, serde_json::Value)> {
        match plan {
            Plan::Send { messages, .. } => messages
                .into_iter()
                .map(|m| (m.queue.to_owned(), serde_json::from_str(&m.body).expect("an envelope")))
                .collect(),
            other => panic!("expected messages, got {other:?}"),
        }
    }

    #[test]
    fn a_report_goes_back_to_the_step_it_stopped_before_with_its_ids() {
        let l = Limits::default();
        let mut r = report("REQUESTED", 30);
        r.correlation_id = Some("corr-1".into());
        let out = sent(redrive::report(&r, Some("jane@example.org"), &ctx(&l, false)));
        assert_eq!(out.len(), 1);
        let (queue, env) = &out[0];
        assert_eq!(queue, "CreateZendeskTicketQueue");
        assert_eq!(env["type"], "report.requested");
        assert_eq!(env["id"], format!("report.requested:{}", r.report_id), "the id mark-reported gives it");
        assert_eq!(
            (env["workflow_id"].as_str(), env["correlation_id"].as_str()),
            (Some(r.report_id.as_str()), Some("corr-1"))
        );
        assert_eq!(env["payload"]["email"], "jane@example.org");

        r.status = reports::ReportStatus::TicketCreated;
        r.ticket_id = Some(7);
        r.txma_event_id = Some("t".into());
        let out = sent(redrive::report(&r, Some("jane@example.org"), &ctx(&l, false)));
        let queues: Vec<&str> = out.iter().map(|(q, _)| q.as_str()).collect();
        assert_eq!(queues, ["SendNotifyEmailQueue"], "only the effect not done");
        assert_eq!(out[0].1["payload"]["ticket_id"], 7);
        r.notification_id = Some("n".into());
        let queues: Vec<String> =
            sent(redrive::report(&r, Some("jane@example.org"), &ctx(&l, false))).into_iter().map(|(q, _)| q).collect();
        assert_eq!(queues, ["SendTxmaEventQueue"], "all done but the fan-in: a duplicate effect runs it");

        assert!(matches!(redrive::report(&r, None, &ctx(&l, false)), Plan::Cannot(_)), "no email kept");
        assert!(matches!(redrive::report(&report("COMPLETED", 30), None, &ctx(&l, true)), Plan::NotStuck(_)));
        let young = report("REQUESTED", 5);
        assert!(matches!(redrive::report(&young, Some("j@example.org"), &ctx(&l, false)), Plan::NotStuck(_)));
        assert!(matches!(redrive::report(&young, Some("j@example.org"), &ctx(&l, true)), Plan::Send { .. }));
    }

    #[test]
    fn an_approval_goes_to_its_step_or_back_to_the_processor_on_its_own_group() {
        let l = Limits::default();
        let mut r = request(60);
        r.awaiting = Some(Awaiting { step: AwaitedStep::Emails, since: ago(58) });
        let out = sent(redrive::approval(&r, &ctx(&l, false)));
        assert_eq!(out[0].0, "SendApprovalEmailsQueue");
        assert_eq!(out[0].1["id"], "approval.requested:r-1");
        assert_eq!((out[0].1["workflow_id"].as_str(), out[0].1["correlation_id"].as_str()), (Some("r-1"), Some("r-1")));

        let mut d = decided(Decision::Approved, 30);
        d.awaiting = Some(Awaiting { step: AwaitedStep::Enqueue, since: ago(28) });
        let out = sent(redrive::approval(&d, &ctx(&l, false)));
        assert_eq!((out[0].0.as_str(), out[0].1["type"].as_str()), ("EnqueueDecisionQueue", Some("approval.decided")));

        d.decision_enqueued_at = Some(ago(20));
        let Plan::Send { messages, .. } = redrive::approval(&d, &ctx(&l, false)) else { panic!("stuck") };
        assert_eq!(messages[0].queue, "ApprovalDecisionsQueue");
        let (group, dedup) = messages[0].fifo.clone().expect("FIFO ids");
        assert_eq!(group, "r-1");
        assert_ne!(dedup, "r-1", "the first send's deduplication id would drop it within 5 minutes");

        d.status = Status::Executed;
        assert!(matches!(redrive::approval(&d, &ctx(&l, true)), Plan::NotStuck(_)));
    }

    #[test]
    fn a_contact_is_polled_or_checked_and_a_workflow_announced_through_its_step() {
        let l = Limits::default();
        let out = sent(redrive::contact(&contact(ContactState::InProgressAgent, 300), &ctx(&l, false)));
        assert_eq!((out[0].0.as_str(), out[0].1["type"].as_str()), ("PollContactQueue", Some("contact.poll")));
        assert_eq!(out[0].1["correlation_id"], "955c07e1-af64-4094-9c16-c59995ecdcbe");
        let mut ended = contact(ContactState::CompletedAgent, 300);
        ended.disconnected_at = Some(ago(60));
        let out = sent(redrive::contact(&ended, &ctx(&l, false)));
        assert_eq!(out[0].0, "CheckRecordingQueue");
        ended.recording_state = Some(RecordingState::Recorded);
        assert!(matches!(redrive::contact(&ended, &ctx(&l, true)), Plan::NotStuck(_)));

        let mut w = audit::testing::unannounced("wf-1", 2);
        w.updated_at = ago(20);
        let out = sent(redrive::workflow(&w, &ctx(&l, false)));
        assert_eq!(out[0].0, "AnnounceWorkflowQueue");
        assert_eq!(out[0].1["correlation_id"], "req-2", "the action's own correlation id");
        assert_eq!(out[0].1["payload"]["requested_by"], "oncall@example");
        assert!(matches!(redrive::workflow(&workflow(2, 2, 20), &ctx(&l, true)), Plan::NotStuck(_)));
    }
}
