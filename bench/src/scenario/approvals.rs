//! Seed 002, issue action approval: requests created and decided through the
//! approvals crate's own use cases (`create_request`, `decide` with a token whose
//! hash the store holds), each with a new request id.

use approvals::dynamo::DynamoApprovalStore;
use approvals::messages::envelope;
use approvals::ports::{EffectStore, Outbox};
use approvals::state::OutboxEvent;
use approvals::usecases::{create_request, decide, DecideAnswer, LinkRequest};
use approvals::{ApprovalDecided, ApprovalRequested, Decision, Token};
use async_trait::async_trait;
use chrono::{Duration, Utc};
use kit::testing::RecordingPublisher;
use serde_json::{json, Value};

use super::api::FreshPost;
use super::{count_tally, sqs, Check, Env, Scenario, Tally};

/// Approvers per request: one decides, the others are told.
const APPROVERS: usize = 3;
/// When the sweep would re-announce a request no step confirmed (the API's default).
const OUTBOX_DELAY: Duration = Duration::minutes(2);

/// Makes requests in each state of the workflow. Announcements go to a recording
/// publisher: the step under measure gets its event from the bench, not from SNS.
struct Requests {
    store: DynamoApprovalStore,
}

impl Requests {
    fn new(env: &Env<'_>) -> anyhow::Result<Self> {
        Ok(Self { store: DynamoApprovalStore::new(env.dynamodb(), env.table("ApprovalsTable")?) })
    }

    /// A PENDING request, none of its approvers emailed; announced again by the
    /// sweep after `outbox_delay` (negative: due now).
    async fn pending(&mut self, outbox_delay: Duration) -> anyhow::Result<String> {
        let id = format!("bench-{}", uuid::Uuid::new_v4().simple());
        let approvers: Vec<String> = (0..APPROVERS).map(|i| format!("approver-{i}@example.org")).collect();
        let submission = serde_json::from_value(json!({
            "request_id": id, "issue_id": "INC-BENCH", "action": "restart-service",
            "action_parameters": {"service": "billing"}, "approvers": approvers, "expires_in_minutes": 60,
        }))?;
        let out =
            create_request(&self.store, &RecordingPublisher::default(), submission, "bench", Utc::now(), outbox_delay)
                .await?;
        anyhow::ensure!(out.created, "request {id} existed already");
        Ok(id)
    }

    /// APPROVED by approver 0 through `decide`, as the API's link does; with
    /// `emailed`, every approver got a link first (so the others are told).
    async fn decided(&mut self, emailed: bool) -> anyhow::Result<String> {
        let id = self.pending(OUTBOX_DELAY).await?;
        let now = Utc::now();
        let token = Token::generate()?;
        anyhow::ensure!(self.store.set_token(&id, 0, &token.hash(), now).await?, "token not stored for {id}");
        if emailed {
            for i in 0..APPROVERS {
                self.store.mark_emailed(&id, i, now).await?;
            }
        }
        let link = LinkRequest { request_id: id.clone(), token, decision: Decision::Approved };
        match decide(&self.store, &RecordingPublisher::default(), &link, "bench", now, OUTBOX_DELAY).await? {
            DecideAnswer::Decided { .. } => Ok(id),
            DecideAnswer::Refused(refusal) => anyhow::bail!("seeding a decision on {id}: {refusal:?}"),
        }
    }
}

/// approval-api's create path: the sample request under a new `request_id`.
pub fn create_request_api(env: &Env<'_>) -> anyhow::Result<FreshPost> {
    Ok(FreshPost::new(
        env.sample("approval-api", "create-request.json")?,
        "request_id",
        || format!("bench-{}", uuid::Uuid::new_v4().simple()),
        "`create-request.json` with a new `request_id`: POST /approval-requests stores it PENDING and announces it (201)",
    ))
}

pub struct SendEmails {
    requests: Requests,
    source: sqs::Source,
}

impl SendEmails {
    pub fn new(env: &Env<'_>) -> anyhow::Result<Self> {
        Ok(Self { requests: Requests::new(env)?, source: env.source("send-approval-emails")? })
    }
}

#[async_trait]
impl Scenario for SendEmails {
    fn path(&self) -> String {
        format!("a new PENDING request (created through the use case): {APPROVERS} tokens minted, stored as hashes, emailed (SES in the emulator)")
    }

    async fn prepare(&mut self, k: usize) -> anyhow::Result<Value> {
        let mut bodies = Vec::with_capacity(k);
        for _ in 0..k {
            let id = self.requests.pending(OUTBOX_DELAY).await?;
            bodies.push(serde_json::to_string(&envelope(&id, "bench", ApprovalRequested { request_id: id.clone() }))?);
        }
        Ok(self.source.event(bodies))
    }
}

/// enqueue-decision and notify-approvers: both consume `approval.decided`.
pub struct Decided {
    requests: Requests,
    source: sqs::Source,
    emailed: bool,
}

impl Decided {
    pub fn enqueue(env: &Env<'_>) -> anyhow::Result<Self> {
        Ok(Self { requests: Requests::new(env)?, source: env.source("enqueue-decision")?, emailed: false })
    }

    pub fn notify(env: &Env<'_>) -> anyhow::Result<Self> {
        Ok(Self { requests: Requests::new(env)?, source: env.source("notify-approvers")?, emailed: true })
    }
}

#[async_trait]
impl Scenario for Decided {
    fn path(&self) -> String {
        if self.emailed {
            format!(
                "a new decision (decided through the use case): the {} other approvers emailed (SES), each marked",
                APPROVERS - 1
            )
        } else {
            "a new decision (decided through the use case): onto the FIFO decisions queue, recorded once".into()
        }
    }

    async fn prepare(&mut self, k: usize) -> anyhow::Result<Value> {
        let mut bodies = Vec::with_capacity(k);
        for _ in 0..k {
            let id = self.requests.decided(self.emailed).await?;
            let decided = ApprovalDecided { request_id: id.clone(), decision: Decision::Approved };
            bodies.push(serde_json::to_string(&envelope(&id, "bench", decided))?);
        }
        Ok(self.source.event(bodies))
    }
}

/// Each run finds exactly the `k` requests seeded due: they are cleared after it
/// (the sweep itself only postpones them).
pub struct Sweeper {
    requests: Requests,
    due: Vec<String>,
}

impl Sweeper {
    pub fn new(env: &Env<'_>) -> anyhow::Result<Self> {
        Ok(Self { requests: Requests::new(env)?, due: Vec::new() })
    }
}

#[async_trait]
impl Scenario for Sweeper {
    fn path(&self) -> String {
        "scheduled sweep re-announcing 1 or 10 due requests (seeded unconfirmed; per record = per request)".into()
    }

    fn check(&self) -> Check {
        Check::Answer
    }

    async fn prepare(&mut self, k: usize) -> anyhow::Result<Value> {
        for _ in 0..k {
            let id = self.requests.pending(-Duration::minutes(1)).await?;
            self.due.push(id);
        }
        Ok(json!({}))
    }

    fn tally(&self, answer: &Result<Value, Value>, k: usize) -> Tally {
        count_tally(answer, "republished", k)
    }

    async fn after(&mut self) -> anyhow::Result<usize> {
        for id in self.due.drain(..) {
            self.requests.store.clear(&id, OutboxEvent::Requested).await?;
        }
        Ok(0)
    }
}
