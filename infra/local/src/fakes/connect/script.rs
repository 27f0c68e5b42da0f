//! A scripted contact: the stages a call goes through (IVR, queue, agent, ended),
//! each held for a duration or until advanced on demand, and the DescribeContact
//! `Contact` each stage answers with.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Map, Value};

/// Where a call is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StageKind {
    /// In the flow (IVR), not queued yet.
    Ivr,
    /// Waiting in a queue.
    Queue,
    /// Talking to an agent.
    Agent,
    /// Disconnected.
    Ended,
}

/// One stage: held `secs` seconds, or (without) until `POST /__contacts/{id}/advance`.
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Stage {
    pub stage: StageKind,
    #[serde(default)]
    pub secs: Option<f64>,
}

/// Ready-made lifecycles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lifecycle {
    /// Queue, agent, ended: a call an agent took (COMPLETED - AGENT).
    Answered,
    /// Queue, then ended without an agent (COMPLETED - QUEUE/IVR).
    Abandoned,
    /// Waits in the queue until advanced (IN_PROGRESS - QUEUE/IVR).
    QueueOnly,
}

/// `POST /__contacts`: one contact's script.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptRequest {
    pub instance_id: String,
    pub contact_id: String,
    #[serde(default)]
    pub lifecycle: Option<Lifecycle>,
    /// How long each stage of a `lifecycle` lasts (default: until advanced).
    #[serde(default)]
    pub stage_secs: Option<f64>,
    #[serde(default)]
    pub stages: Option<Vec<Stage>>,
    /// DescribeContact's `Channel` (default `VOICE`): `CHAT`, `TASK` or `EMAIL` for a
    /// contact that ran through a shared flow's recording block but is no call.
    #[serde(default)]
    pub channel: Option<String>,
    /// A fixed `Contact` to answer with (e.g. one of the seed's responses); its
    /// `Id` and `Arn` are set to this contact's.
    #[serde(default)]
    pub response: Option<Value>,
}

impl ScriptRequest {
    /// The stages, or why the request cannot be scripted.
    pub fn stages(&self) -> Result<Vec<Stage>, String> {
        let given = [self.lifecycle.is_some(), self.stages.is_some(), self.response.is_some()];
        if given.iter().filter(|g| **g).count() != 1 {
            return Err("give exactly one of lifecycle, stages, response".to_owned());
        }
        if self.instance_id.trim().is_empty() || self.contact_id.trim().is_empty() {
            return Err("instance_id and contact_id are required".to_owned());
        }
        let held = |stage| Stage { stage, secs: self.stage_secs };
        let stages = match (&self.lifecycle, &self.stages) {
            (Some(Lifecycle::Answered), _) => {
                vec![held(StageKind::Queue), held(StageKind::Agent), held(StageKind::Ended)]
            }
            (Some(Lifecycle::Abandoned), _) => vec![held(StageKind::Queue), held(StageKind::Ended)],
            (Some(Lifecycle::QueueOnly), _) => vec![Stage { stage: StageKind::Queue, secs: None }],
            (None, Some(stages)) => stages.clone(),
            // A fixed response: one stage, never left.
            (None, None) => vec![Stage { stage: StageKind::Ended, secs: None }],
        };
        if stages.is_empty() {
            return Err("stages must not be empty".to_owned());
        }
        if stages.iter().any(|s| s.secs.is_some_and(|secs| !(0.0..=86_400.0).contains(&secs))) {
            return Err("secs must be between 0 and 86400".to_owned());
        }
        if let Some(channel) = &self.channel {
            if !CHANNELS.contains(&channel.as_str()) {
                return Err(format!("channel must be one of {}", CHANNELS.join(", ")));
            }
            if self.response.is_some() {
                return Err("give the channel in the response's Contact.Channel".to_owned());
            }
        }
        Ok(stages)
    }
}

/// DescribeContact's channels (the API's `Channel` enum).
const CHANNELS: &[&str] = &["VOICE", "CHAT", "TASK", "EMAIL"];

/// A contact the fake knows.
#[derive(Debug, Clone)]
pub struct Scripted {
    pub instance_id: String,
    pub contact_id: String,
    pub channel: String,
    pub stages: Vec<Stage>,
    pub current: usize,
    pub entered_at: DateTime<Utc>,
    pub initiated_at: DateTime<Utc>,
    pub enqueued_at: Option<DateTime<Utc>>,
    pub agent_connected_at: Option<DateTime<Utc>>,
    pub disconnected_at: Option<DateTime<Utc>>,
    pub response: Option<Value>,
    pub describe_calls: u64,
}

impl Scripted {
    pub fn new(request: &ScriptRequest, stages: Vec<Stage>, now: DateTime<Utc>) -> Self {
        let mut contact = Self {
            instance_id: request.instance_id.trim().to_owned(),
            contact_id: request.contact_id.trim().to_owned(),
            channel: request.channel.clone().unwrap_or_else(|| "VOICE".to_owned()),
            stages,
            current: 0,
            entered_at: now,
            initiated_at: now,
            enqueued_at: None,
            agent_connected_at: None,
            disconnected_at: None,
            response: request.response.clone(),
            describe_calls: 0,
        };
        contact.enter(now);
        contact
    }

    pub fn stage(&self) -> StageKind {
        self.stages[self.current].stage
    }

    fn enter(&mut self, at: DateTime<Utc>) {
        self.entered_at = at;
        match self.stage() {
            StageKind::Ivr => {}
            StageKind::Queue => {
                self.enqueued_at.get_or_insert(at);
            }
            StageKind::Agent => {
                self.agent_connected_at.get_or_insert(at);
            }
            StageKind::Ended => {
                self.disconnected_at.get_or_insert(at);
            }
        }
    }

    /// Moves through every stage whose time is up (the last stage is kept).
    pub fn catch_up(&mut self, now: DateTime<Utc>) {
        while self.current + 1 < self.stages.len() {
            let Some(secs) = self.stages[self.current].secs else { return };
            let ends = self.entered_at + chrono::Duration::milliseconds((secs * 1000.0) as i64);
            if ends > now {
                return;
            }
            self.current += 1;
            self.enter(ends);
        }
    }

    /// The next stage, now (on demand). False at the last stage.
    pub fn advance(&mut self, now: DateTime<Utc>) -> bool {
        self.catch_up(now);
        if self.current + 1 >= self.stages.len() {
            return false;
        }
        self.current += 1;
        self.enter(now);
        true
    }

    /// DescribeContact's `Contact` for the current stage, as Connect's wire JSON
    /// (times in epoch seconds). A made-up customer number is included, as on the
    /// real service, so tests can prove it never reaches a log.
    pub fn contact(&self, region: &str) -> Value {
        let arn =
            format!("arn:aws:connect:{region}:123456789012:instance/{}/contact/{}", self.instance_id, self.contact_id);
        if let Some(fixed) = &self.response {
            let mut contact = fixed.get("Contact").unwrap_or(fixed).as_object().cloned().unwrap_or_default();
            contact.insert("Id".into(), json!(self.contact_id));
            contact.insert("Arn".into(), json!(arn));
            return json!({ "Contact": contact });
        }
        let epoch = |t: DateTime<Utc>| t.timestamp_millis() as f64 / 1000.0;
        let mut c = Map::new();
        c.insert("Arn".into(), json!(arn));
        c.insert("Id".into(), json!(self.contact_id));
        c.insert("Channel".into(), json!(self.channel));
        c.insert("InitiationMethod".into(), json!("INBOUND"));
        c.insert("InitiationTimestamp".into(), json!(epoch(self.initiated_at)));
        c.insert("LastUpdateTimestamp".into(), json!(epoch(self.entered_at)));
        c.insert("CustomerEndpoint".into(), json!({"Type": "TELEPHONE_NUMBER", "Address": "+447700900123"}));
        if let Some(t) = self.enqueued_at {
            c.insert(
                "QueueInfo".into(),
                json!({"EnqueueTimestamp": epoch(t), "Id": "0a0e0e0e-0003-4003-8003-000000000001"}),
            );
        }
        if let Some(t) = self.agent_connected_at {
            c.insert(
                "AgentInfo".into(),
                json!({"ConnectedToAgentTimestamp": epoch(t), "Id": "a9e07000-0003-4003-8003-000000000001"}),
            );
        }
        if let Some(t) = self.disconnected_at {
            c.insert("DisconnectTimestamp".into(), json!(epoch(t)));
        }
        json!({ "Contact": c })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(json: Value) -> ScriptRequest {
        serde_json::from_value(json).expect("request")
    }

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_767_261_600 + secs, 0).expect("time")
    }

    #[test]
    fn an_answered_call_moves_through_its_stages_on_time() {
        let req = request(json!({"instance_id": "i", "contact_id": "c", "lifecycle": "answered", "stage_secs": 2}));
        let mut contact = Scripted::new(&req, req.stages().expect("stages"), at(0));
        assert_eq!(contact.stage(), StageKind::Queue);
        contact.catch_up(at(3));
        assert_eq!(contact.stage(), StageKind::Agent);
        assert_eq!(contact.agent_connected_at, Some(at(2)));
        contact.catch_up(at(100));
        assert_eq!(contact.stage(), StageKind::Ended);
        let body = contact.contact("eu-west-2");
        assert_eq!(body["Contact"]["DisconnectTimestamp"], json!(1_767_261_604.0));
        assert!(body["Contact"]["AgentInfo"]["ConnectedToAgentTimestamp"].is_number());
    }

    #[test]
    fn stages_without_a_duration_wait_to_be_advanced() {
        let req = request(json!({"instance_id": "i", "contact_id": "c", "lifecycle": "abandoned"}));
        let mut contact = Scripted::new(&req, req.stages().expect("stages"), at(0));
        contact.catch_up(at(1000));
        assert_eq!(contact.stage(), StageKind::Queue);
        assert!(contact.advance(at(1001)));
        assert_eq!(contact.stage(), StageKind::Ended);
        assert!(!contact.advance(at(1002)));
        assert!(contact.contact("r")["Contact"].get("AgentInfo").is_none());
    }

    #[test]
    fn a_fixed_response_is_served_with_this_contacts_ids() {
        let fixed = json!({"Contact": {"Id": "other", "Channel": "VOICE", "InitiationTimestamp": 1.5}});
        let req = request(json!({"instance_id": "i", "contact_id": "c", "response": fixed}));
        let contact = Scripted::new(&req, req.stages().expect("stages"), at(0));
        let body = contact.contact("r");
        assert_eq!(body["Contact"]["Id"], "c");
        assert_eq!(body["Contact"]["InitiationTimestamp"], json!(1.5));
    }

    #[test]
    fn a_chat_contact_says_so() {
        let req = request(json!({"instance_id": "i", "contact_id": "c", "lifecycle": "answered", "channel": "CHAT"}));
        let contact = Scripted::new(&req, req.stages().expect("stages"), at(0));
        assert_eq!(contact.contact("r")["Contact"]["Channel"], "CHAT");
        let voice = request(json!({"instance_id": "i", "contact_id": "c", "lifecycle": "answered"}));
        assert_eq!(
            Scripted::new(&voice, voice.stages().expect("stages"), at(0)).contact("r")["Contact"]["Channel"],
            "VOICE"
        );
        let bad = request(json!({"instance_id": "i", "contact_id": "c", "lifecycle": "answered", "channel": "FAX"}));
        assert!(bad.stages().is_err());
    }

    #[test]
    fn bad_scripts_say_why() {
        let both = request(json!({"instance_id": "i", "contact_id": "c", "lifecycle": "answered", "stages": []}));
        assert!(both.stages().is_err());
        let empty = request(json!({"instance_id": "i", "contact_id": "c", "stages": []}));
        assert!(empty.stages().is_err());
        assert!(
            serde_json::from_value::<ScriptRequest>(json!({"instance_id": "i", "contact_id": "c", "x": 1})).is_err()
        );
    }
}
