//! Seed 000, the report workflow: each step gets reports in the state its upstream
//! step leaves them (login event recorded, report marked, ticket recorded), made
//! through the reports crate's own store, each with a new report id.

use activity::dynamo::DynamoActivityStore;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kit::{Envelope, Message};
use reports::dynamo::DynamoReportStore;
use reports::messages::message_id;
use reports::ports::{MarkOutcome, ReportStore, TicketRecorded};
use reports::{ReportRequest, ReportRequested, ReportStatus, ReportSubmission, TicketCreated};
use serde_json::Value;
use uuid::Uuid;

use super::{count_tally, sqs, Check, Env, Scenario, Tally};
use crate::report_cost::{body, seed};

const EMAIL: &str = "bench@example.gov.uk";
const EVENT: &str = "evt-1";

/// Makes reports in each state of the workflow, each for a user of its own (an
/// event can be in one report only).
struct Reports {
    activity: DynamoActivityStore,
    store: DynamoReportStore,
    ticket: u64,
}

impl Reports {
    fn new(env: &Env<'_>) -> anyhow::Result<Self> {
        let activity_table = env.table("ActivityTable")?;
        Ok(Self {
            activity: DynamoActivityStore::new(env.dynamodb(), activity_table.clone()),
            store: DynamoReportStore::new(env.dynamodb(), env.table("ReportsTable")?, activity_table),
            ticket: 100_000,
        })
    }

    /// A new user with one recorded login event.
    async fn user_with_event(&mut self) -> anyhow::Result<String> {
        let user = format!("bench-{}", Uuid::new_v4().simple());
        seed(&self.activity, &user, EVENT).await?;
        Ok(user)
    }

    /// A report as mark-reported leaves it: REQUESTED, its event marked, as of `at`.
    async fn requested(&mut self, at: DateTime<Utc>) -> anyhow::Result<ReportRequest> {
        let user = self.user_with_event().await?;
        let req = ReportRequest::parse(ReportSubmission {
            report_id: Uuid::new_v4().to_string(),
            user_id: user,
            email: EMAIL.into(),
            event_ids: vec![EVENT.into()],
            reported_at: at,
        })?;
        match self.store.mark_reported(&req, "bench", at).await? {
            MarkOutcome::Marked => Ok(req),
            other => anyhow::bail!("seeding a report: {other:?}"),
        }
    }

    /// A report as create-zendesk-ticket leaves it: its ticket recorded.
    async fn ticketed(&mut self) -> anyhow::Result<TicketCreated> {
        let now = Utc::now();
        let report = self.requested(now).await?;
        self.ticket += 1;
        match self.store.record_ticket(&report, self.ticket, now).await? {
            TicketRecorded::Recorded => Ok(TicketCreated { report, ticket_id: self.ticket }),
            other => anyhow::bail!("seeding a ticket: {other:?}"),
        }
    }
}

/// The envelope the upstream step publishes, with its deterministic id.
fn envelope<M: Message>(report_id: &Uuid, payload: M) -> anyhow::Result<String> {
    let env = Envelope::new(report_id.to_string(), "bench", payload).with_id(message_id(M::TYPE, report_id));
    Ok(serde_json::to_string(&env)?)
}

pub struct MarkReported {
    reports: Reports,
    source: sqs::Source,
    last: Vec<Uuid>,
}

impl MarkReported {
    pub fn new(env: &Env<'_>) -> anyhow::Result<Self> {
        Ok(Self { reports: Reports::new(env)?, source: env.source("mark-reported")?, last: Vec::new() })
    }
}

#[async_trait]
impl Scenario for MarkReported {
    fn path(&self) -> String {
        "a new report of a recorded login event: the marking transaction (report REQUESTED, event marked), `report.requested` published".into()
    }

    async fn prepare(&mut self, k: usize) -> anyhow::Result<Value> {
        self.last.clear();
        let mut bodies = Vec::with_capacity(k);
        for _ in 0..k {
            let user = self.reports.user_with_event().await?;
            let id = Uuid::new_v4();
            bodies.push(body(&id.to_string(), &user, EVENT));
            self.last.push(id);
        }
        Ok(self.source.event(bodies))
    }

    /// A rejected report is `Done` to the kit too: only the stored status tells.
    async fn after(&mut self) -> anyhow::Result<usize> {
        let mut not_requested = 0;
        for id in &self.last {
            let status = self.reports.store.get(id).await?.map(|r| r.status);
            not_requested += usize::from(status != Some(ReportStatus::Requested));
        }
        Ok(not_requested)
    }
}

pub struct CreateTicket {
    reports: Reports,
    source: sqs::Source,
}

impl CreateTicket {
    pub fn new(env: &Env<'_>) -> anyhow::Result<Self> {
        Ok(Self { reports: Reports::new(env)?, source: env.source("create-zendesk-ticket")? })
    }
}

#[async_trait]
impl Scenario for CreateTicket {
    fn path(&self) -> String {
        "a REQUESTED report (seeded through the store): Zendesk ticket created (local fake), recorded on report and event, `report.ticket-created` published".into()
    }

    async fn prepare(&mut self, k: usize) -> anyhow::Result<Value> {
        let mut bodies = Vec::with_capacity(k);
        for _ in 0..k {
            let report = self.reports.requested(Utc::now()).await?;
            bodies.push(envelope(&report.report_id.clone(), ReportRequested { report })?);
        }
        Ok(self.source.event(bodies))
    }
}

/// send-txma-event and send-notify-email: the same input, different effects.
pub struct Effect {
    reports: Reports,
    source: sqs::Source,
    path: &'static str,
}

impl Effect {
    pub fn txma(env: &Env<'_>) -> anyhow::Result<Self> {
        Ok(Self {
            reports: Reports::new(env)?,
            source: env.source("send-txma-event")?,
            path: "a report with its ticket recorded (seeded): the TxMA event sent (SQS) and recorded under a claim",
        })
    }

    pub fn email(env: &Env<'_>) -> anyhow::Result<Self> {
        Ok(Self {
            reports: Reports::new(env)?,
            source: env.source("send-notify-email")?,
            path: "a report with its ticket recorded (seeded): the email sent (Notify fake) and recorded under a claim",
        })
    }
}

#[async_trait]
impl Scenario for Effect {
    fn path(&self) -> String {
        self.path.into()
    }

    async fn prepare(&mut self, k: usize) -> anyhow::Result<Value> {
        let mut bodies = Vec::with_capacity(k);
        for _ in 0..k {
            let ticketed = self.reports.ticketed().await?;
            bodies.push(envelope(&ticketed.report.report_id.clone(), ticketed)?);
        }
        Ok(self.source.event(bodies))
    }
}

/// The detector only reads: the stuck reports seeded stay, topped up to `k`.
pub struct StuckDetector {
    reports: Reports,
    event: Value,
    seeded: usize,
}

impl StuckDetector {
    pub fn new(env: &Env<'_>) -> anyhow::Result<Self> {
        Ok(Self { reports: Reports::new(env)?, event: env.sample("stuck-detector", "scheduled.json")?, seeded: 0 })
    }
}

#[async_trait]
impl Scenario for StuckDetector {
    fn path(&self) -> String {
        "scheduled scan finding 1 or 10 reports open for an hour (seeded; per record = per stuck report)".into()
    }

    fn check(&self) -> Check {
        Check::Answer
    }

    async fn prepare(&mut self, k: usize) -> anyhow::Result<Value> {
        while self.seeded < k {
            self.reports.requested(Utc::now() - chrono::Duration::hours(1)).await?;
            self.seeded += 1;
        }
        Ok(self.event.clone())
    }

    fn tally(&self, answer: &Result<Value, Value>, k: usize) -> Tally {
        count_tally(answer, "report", k)
    }
}
