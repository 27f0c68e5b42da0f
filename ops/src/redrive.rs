//! `ops workflow redrive <id>` and `ops stuck --redrive`: works out where a stuck
//! workflow stopped (the `stuck` crate's rules), rebuilds the message its next step
//! needs from the stored state (`stuck::redrive`), sends it to that step's queue,
//! and records the redrive on the item (when, by whom, which step). A workflow that
//! is not stuck is left alone, and said so.

use anyhow::Context as _;
use aws_sdk_sqs::types::MessageAttributeValue;
use chrono::{DateTime, Utc};
use kit::redrive::Redrive;
use stuck::redrive::{self as plans, Context, Outgoing, Plan};
use stuck::Kind;

use crate::sqs::queue_url;
use crate::stack::StackMap;

/// A workflow's item, as its system stores it.
#[derive(Debug, Clone)]
pub enum Item {
    /// With the email it keeps while open (what the confirmation needs).
    Report(Box<reports::Report>, Option<String>),
    Approval(Box<approvals::ApprovalRequest>),
    Contact(Box<contacts::Contact>),
    Workflow(Box<audit::Workflow>),
}

impl Item {
    pub fn kind(&self) -> Kind {
        match self {
            Item::Report(..) => Kind::Report,
            Item::Approval(_) => Kind::Approval,
            Item::Contact(_) => Kind::Contact,
            Item::Workflow(_) => Kind::Workflow,
        }
    }

    pub fn plan(&self, ctx: &Context<'_>) -> Plan {
        match self {
            Item::Report(r, email) => plans::report(r, email.as_deref(), ctx),
            Item::Approval(r) => plans::approval(r, ctx),
            Item::Contact(c) => plans::contact(c, ctx),
            Item::Workflow(w) => plans::workflow(w, ctx),
        }
    }
}

/// The tables `ops` reads and writes items in.
pub struct Stores {
    reports: Option<reports::dynamo::DynamoReportStore>,
    approvals: Option<approvals::dynamo::DynamoApprovalStore>,
    contacts: Option<contacts::dynamo::DynamoContactStore>,
    workflows: Option<audit::dynamo::DynamoWorkflows>,
}

impl Stores {
    pub fn new(ddb: &aws_sdk_dynamodb::Client, map: &StackMap) -> Self {
        let s = crate::stuck::sources(ddb, map);
        Self { reports: s.reports, approvals: s.approvals, contacts: s.contacts, workflows: s.workflows }
    }

    /// The item of `kind` with this id, if that system has one.
    pub async fn load(&self, kind: Kind, id: &str) -> anyhow::Result<Option<Item>> {
        Ok(match kind {
            Kind::Report => {
                let (Some(store), Ok(report_id)) = (&self.reports, uuid::Uuid::parse_str(id)) else { return Ok(None) };
                match reports::ports::ReportReader::get(store, &report_id).await? {
                    None => None,
                    Some(r) => Some(Item::Report(Box::new(r), store.stored_email(&report_id).await?)),
                }
            }
            Kind::Approval => {
                let Some(store) = &self.approvals else { return Ok(None) };
                approvals::ports::RequestStore::get(store, id).await?.map(|r| Item::Approval(Box::new(r)))
            }
            Kind::Contact => {
                let (Some(store), Ok(contact_id)) = (&self.contacts, contacts::ContactId::parse(id)) else {
                    return Ok(None);
                };
                contacts::ports::ContactReader::get(store, &contact_id).await?.map(|c| Item::Contact(Box::new(c)))
            }
            Kind::Workflow => {
                let Some(store) = &self.workflows else { return Ok(None) };
                audit::ports::WorkflowStore::get(store, id).await?.map(|w| Item::Workflow(Box::new(w)))
            }
        })
    }

    /// Every system's item with this id (ids are unique within a system).
    pub async fn find(&self, id: &str) -> anyhow::Result<Vec<Item>> {
        let mut out = Vec::new();
        for kind in Kind::ALL {
            out.extend(self.load(kind, id).await?);
        }
        Ok(out)
    }

    /// Appends the redrive to the item (audited workflows: announce-workflow does,
    /// in the write that marks the action announced).
    async fn record(&self, item: &Item, redrive: &Redrive) -> anyhow::Result<()> {
        let recorded = match item {
            Item::Report(r, _) => match (&self.reports, uuid::Uuid::parse_str(&r.report_id)) {
                (Some(store), Ok(id)) => store.record_redrive(&id, redrive).await?,
                _ => false,
            },
            Item::Approval(r) => match &self.approvals {
                Some(store) => store.record_redrive(&r.request_id, redrive).await?,
                None => false,
            },
            Item::Contact(c) => match &self.contacts {
                Some(store) => store.record_redrive(&c.contact_id, redrive).await?,
                None => false,
            },
            Item::Workflow(_) => true,
        };
        if !recorded {
            anyhow::bail!("the item is gone: the redrive was sent but not recorded");
        }
        Ok(())
    }
}

/// What a redrive did (or, in a dry run, would do).
#[derive(Debug, Clone)]
pub struct Outcome {
    pub kind: Kind,
    pub id: String,
    pub plan: Plan,
    /// Sent (false: a dry run, or nothing to send).
    pub sent: bool,
}

/// Who is asking: `--by`, else `OPS_USER`, else the login name.
pub fn operator(by: Option<String>) -> String {
    by.or_else(|| std::env::var("OPS_USER").ok())
        .or_else(|| std::env::var("USER").ok())
        .or_else(|| std::env::var("LOGNAME").ok())
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

fn attribute(v: &str) -> anyhow::Result<MessageAttributeValue> {
    Ok(MessageAttributeValue::builder().data_type("String").string_value(v).build()?)
}

/// Sends one message to its step's queue, as the step before would have put it there.
pub async fn send(sqs: &aws_sdk_sqs::Client, map: &StackMap, m: &Outgoing) -> anyhow::Result<()> {
    let queue = map.queues.get(m.queue).with_context(|| format!("the template has no queue {}", m.queue))?;
    let url = queue_url(sqs, &queue.name).await?;
    let mut req =
        sqs.send_message().queue_url(url).message_body(&m.body).message_attributes("type", attribute(&m.message_type)?);
    if !m.correlation_id.is_empty() {
        req = req.message_attributes(kit::decode::CORRELATION_ATTRIBUTE, attribute(&m.correlation_id)?);
    }
    if let Some((group, dedup)) = &m.fifo {
        req = req.message_group_id(group).message_deduplication_id(dedup);
    }
    req.send().await.with_context(|| format!("SendMessage to {}", queue.name))?;
    Ok(())
}

/// Plans `item`'s redrive and, unless `dry_run`, sends it and records it.
pub async fn redrive(
    sqs: &aws_sdk_sqs::Client,
    map: &StackMap,
    stores: &Stores,
    item: &Item,
    ctx: &Context<'_>,
    dry_run: bool,
) -> anyhow::Result<Outcome> {
    let plan = item.plan(ctx);
    let id = match item {
        Item::Report(r, _) => r.report_id.clone(),
        Item::Approval(r) => r.request_id.clone(),
        Item::Contact(c) => c.contact_id.to_string(),
        Item::Workflow(w) => w.workflow_id.clone(),
    };
    let mut outcome = Outcome { kind: item.kind(), id, plan, sent: false };
    let Plan::Send { messages, .. } = &outcome.plan else { return Ok(outcome) };
    if dry_run {
        return Ok(outcome);
    }
    for m in messages {
        send(sqs, map, m).await?;
    }
    let steps: Vec<&str> = messages.iter().map(|m| m.step).collect();
    let record = Redrive { at: ctx.now, by: ctx.by.to_owned(), step: steps.join(" + ") };
    stores.record(item, &record).await?;
    outcome.sent = true;
    Ok(outcome)
}

/// Paces redrives to at most `rate` a second.
pub struct Pace {
    interval: Option<std::time::Duration>,
    last: Option<tokio::time::Instant>,
}

impl Pace {
    pub fn new(rate: f64) -> Self {
        let interval = (rate > 0.0).then(|| std::time::Duration::from_secs_f64(1.0 / rate));
        Self { interval, last: None }
    }

    pub async fn wait(&mut self) {
        if let (Some(interval), Some(last)) = (self.interval, self.last) {
            tokio::time::sleep_until(last + interval).await;
        }
        self.last = Some(tokio::time::Instant::now());
    }
}

/// `ops workflow redrive`'s context for `now`.
pub fn context<'a>(limits: &'a stuck::Limits, force: bool, by: &'a str, now: DateTime<Utc>) -> Context<'a> {
    Context { now, limits, force, by }
}
