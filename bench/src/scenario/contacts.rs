//! Seed 003, the call recording leakage detector: contacts cached, moved on and
//! given their recordings through the contacts crate's own store (and the Connect
//! fake and the emulator's S3 for what the steps ask them), each a new contact id.

use async_trait::async_trait;
use chrono::{Duration, Utc};
use contacts::dynamo::DynamoContactStore;
use contacts::messages::envelope;
use contacts::ports::ContactStore;
use contacts::{CheckRecording as CheckMessage, Contact, ContactId, ContactState, ContactView, InstanceId};
use contacts::{FlowRecordingSetting, PollContact};
use serde_json::{json, Value};

use super::api::Read;
use super::{count_tally, sqs, Check, Env, Scenario, Tally};

/// The instance the samples name.
const INSTANCE: &str = "5e7c0a11-0003-4003-8003-00000000c0a1";

/// Makes contacts in each state of the workflow.
struct Contacts {
    store: DynamoContactStore,
    instance: InstanceId,
}

impl Contacts {
    fn new(env: &Env<'_>) -> anyhow::Result<Self> {
        Ok(Self {
            store: DynamoContactStore::new(env.dynamodb(), env.table("ContactsTable")?),
            instance: InstanceId::parse(INSTANCE)?,
        })
    }

    /// A contact as ingest caches it: INITIALISED, its recording asked for.
    async fn initialised(&self, id: Option<ContactId>) -> anyhow::Result<ContactId> {
        let id = match id {
            Some(id) => id,
            None => ContactId::parse(&uuid::Uuid::new_v4().to_string())?,
        };
        let requested = FlowRecordingSetting {
            contact_id: id.clone(),
            instance_id: self.instance.clone(),
            // The block ran in the inbound flow, minutes before the agent took the call.
            at: Some(Utc::now() - Duration::minutes(5)),
            participants: vec!["Agent".into(), "Customer".into()],
            analytics: false,
        };
        self.store.initialise(&Contact::initialised(requested, Utc::now())).await?;
        Ok(id)
    }

    /// A call an agent took, ended a minute ago, as poll-contact leaves it.
    async fn completed_agent(&self) -> anyhow::Result<(ContactId, ContactView)> {
        let id = self.initialised(None).await?;
        let now = Utc::now();
        let view = ContactView {
            channel: Some(contacts::Channel::Voice),
            initiated_at: Some(now - Duration::minutes(3)),
            agent_connected_at: Some(now - Duration::minutes(2)),
            disconnected_at: Some(now - Duration::minutes(1)),
        };
        anyhow::ensure!(self.store.advance(&id, ContactState::CompletedAgent, &view, now).await?, "{id} did not move");
        Ok((id, view))
    }
}

pub struct Ingest {
    /// The sample's recording-behaviour log line, as a log event.
    line: Value,
    delivery: Value,
}

impl Ingest {
    pub fn new(env: &Env<'_>) -> anyhow::Result<Self> {
        let mut delivery = env.sample("ingest-connect-logs", "subscription.plain.json")?;
        let line = delivery.pointer("/logEvents/0").cloned().unwrap_or_default();
        delivery["logEvents"] = json!([]);
        Ok(Self { line, delivery })
    }
}

#[async_trait]
impl Scenario for Ingest {
    fn path(&self) -> String {
        "a log delivery of 1 or 10 recording requests for new contacts (per record = per log event): each contact cached INITIALISED".into()
    }

    fn check(&self) -> Check {
        Check::Answer
    }

    async fn prepare(&mut self, k: usize) -> anyhow::Result<Value> {
        let mut events = Vec::with_capacity(k);
        for i in 0..k {
            let mut message: Value = serde_json::from_str(self.line["message"].as_str().unwrap_or("{}"))?;
            message["ContactId"] = json!(uuid::Uuid::new_v4().to_string());
            message["Timestamp"] = json!(Utc::now().to_rfc3339());
            let mut event = self.line.clone();
            event["id"] = json!(format!("{i}"));
            event["message"] = json!(message.to_string());
            events.push(event);
        }
        let mut delivery = self.delivery.clone();
        delivery["logEvents"] = json!(events);
        Ok(contacts::subscription::encode(&delivery))
    }

    fn tally(&self, answer: &Result<Value, Value>, k: usize) -> Tally {
        let count = |f: &str| answer.as_ref().ok().and_then(|v| v[f].as_u64()).unwrap_or(0) as usize;
        let (done, duplicate) = (count("cached"), count("already_cached"));
        Tally { done, duplicate, failed: k.saturating_sub(done + duplicate) }
    }

    /// CloudWatch Logs delivering the same batch again.
    fn redelivery(&self, first: &Value) -> Option<Value> {
        Some(first.clone())
    }
}

/// Each run finds exactly the `k` contacts seeded: they are closed after it (the
/// sweep only sends work; the contacts would stay pending for the next run).
pub struct Sweep {
    contacts: Contacts,
    event: Value,
    pending: Vec<ContactId>,
}

impl Sweep {
    pub fn new(env: &Env<'_>) -> anyhow::Result<Self> {
        Ok(Self {
            contacts: Contacts::new(env)?,
            event: env.sample("recording-sweep", "scheduled-event.json")?,
            pending: Vec::new(),
        })
    }
}

#[async_trait]
impl Scenario for Sweep {
    fn path(&self) -> String {
        "scheduled sweep sending 1 or 10 INITIALISED contacts (seeded) to poll-contact (per record = per contact)"
            .into()
    }

    fn check(&self) -> Check {
        Check::Answer
    }

    async fn prepare(&mut self, k: usize) -> anyhow::Result<Value> {
        for _ in 0..k {
            self.pending.push(self.contacts.initialised(None).await?);
        }
        Ok(self.event.clone())
    }

    fn tally(&self, answer: &Result<Value, Value>, k: usize) -> Tally {
        count_tally(answer, "to_poll", k)
    }

    async fn after(&mut self) -> anyhow::Result<usize> {
        for id in self.pending.drain(..) {
            self.contacts.store.close(&id, "bench: swept", Utc::now()).await?;
        }
        Ok(0)
    }
}

pub struct Poll {
    contacts: Contacts,
    source: sqs::Source,
    http: reqwest::Client,
    connect: String,
    /// What the Connect fake answers: a call an agent took, ended.
    described: Value,
}

impl Poll {
    pub fn new(env: &Env<'_>) -> anyhow::Result<Self> {
        Ok(Self {
            contacts: Contacts::new(env)?,
            source: env.source("poll-contact")?,
            http: kit::http::client()?,
            connect: env.stack.connect_url().ok_or_else(|| anyhow::anyhow!("the Connect fake is not running"))?,
            described: env.sample("poll-contact", "completed-agent.json")?,
        })
    }
}

#[async_trait]
impl Scenario for Poll {
    fn path(&self) -> String {
        "an INITIALISED contact (seeded): DescribeContact (Connect fake) → COMPLETED - AGENT".into()
    }

    async fn prepare(&mut self, k: usize) -> anyhow::Result<Value> {
        let mut ids = Vec::with_capacity(k);
        for _ in 0..k {
            ids.push(self.contacts.initialised(None).await?);
        }
        let scripts: Vec<Value> = ids
            .iter()
            .map(|id| json!({"instance_id": INSTANCE, "contact_id": id.as_str(), "response": self.described}))
            .collect();
        self.http.post(format!("{}/__contacts", self.connect)).json(&scripts).send().await?.error_for_status()?;
        let bodies = ids
            .iter()
            .map(|id| serde_json::to_string(&envelope(id, "bench", PollContact { contact_id: id.to_string() })))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(self.source.event(bodies))
    }
}

pub struct CheckRecording {
    contacts: Contacts,
    source: sqs::Source,
    s3: aws_sdk_s3::Client,
    bucket: String,
    prefix: String,
}

impl CheckRecording {
    pub fn new(env: &Env<'_>) -> anyhow::Result<Self> {
        let config = aws_sdk_s3::config::Builder::from(env.stack.sdk_config()).force_path_style(true).build();
        let prefix = env
            .stack
            .invoker()
            .spec("check-recording")
            .and_then(|s| s.environment.get("RECORDING_KEY_PREFIX").cloned())
            .ok_or_else(|| anyhow::anyhow!("check-recording has no RECORDING_KEY_PREFIX"))?;
        Ok(Self {
            contacts: Contacts::new(env)?,
            source: env.source("check-recording")?,
            s3: aws_sdk_s3::Client::from_conf(config),
            bucket: env.stack.provisioned().bucket_name("RecordingBucket")?.to_owned(),
            prefix,
        })
    }
}

#[async_trait]
impl Scenario for CheckRecording {
    fn path(&self) -> String {
        "a completed agent call (seeded) whose recording is in the bucket: found (S3 list) → CALL_RECORDED_SUCCESS"
            .into()
    }

    async fn prepare(&mut self, k: usize) -> anyhow::Result<Value> {
        let mut bodies = Vec::with_capacity(k);
        for _ in 0..k {
            let (id, view) = self.contacts.completed_agent().await?;
            let ended = view.disconnected_at.unwrap_or_else(Utc::now);
            let key = contacts::recording::recording_key(&self.prefix, id.as_str(), ended);
            self.s3.put_object().bucket(&self.bucket).key(key).body(b"RIFF....WAVE".to_vec().into()).send().await?;
            bodies.push(serde_json::to_string(&envelope(&id, "bench", CheckMessage { contact_id: id.to_string() }))?);
        }
        Ok(self.source.event(bodies))
    }
}

/// contacts-api's read: `get-contact.json` for a contact cached first.
pub async fn get_contact(env: &Env<'_>) -> anyhow::Result<Read> {
    let event = env.sample("contacts-api", "get-contact.json")?;
    let id = event.pointer("/pathParameters/contact_id").and_then(Value::as_str).unwrap_or_default();
    Contacts::new(env)?.initialised(Some(ContactId::parse(id)?)).await?;
    Ok(Read::new(event, "`get-contact.json`: GET /contacts/{id} of a cached contact (seeded), as ops".into()))
}
