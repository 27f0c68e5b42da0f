//! The one envelope every message between steps travels in.

use chrono::{DateTime, Utc};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use uuid::Uuid;

/// A message type: its name on the wire and the payload version this code writes and reads.
pub trait Message: Serialize + DeserializeOwned + Send + Sync + 'static {
    const TYPE: &'static str;
    const VERSION: u32;
}

/// `{type, version, id, workflow_id, correlation_id, occurred_at, payload}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope<P> {
    #[serde(rename = "type")]
    pub kind: String,
    pub version: u32,
    /// Unique per message; a re-publish of the same event keeps it, so consumers can dedupe.
    pub id: String,
    pub workflow_id: String,
    pub correlation_id: String,
    pub occurred_at: DateTime<Utc>,
    pub payload: P,
}

impl<P: Message> Envelope<P> {
    /// A new event in an existing workflow, carrying the caller's correlation id.
    pub fn new(workflow_id: impl Into<String>, correlation_id: impl Into<String>, payload: P) -> Self {
        Self {
            kind: P::TYPE.to_owned(),
            version: P::VERSION,
            id: Uuid::new_v4().to_string(),
            workflow_id: workflow_id.into(),
            correlation_id: correlation_id.into(),
            occurred_at: Utc::now(),
            payload,
        }
    }

    /// A deterministic id, for events a step may publish again on redelivery: the same
    /// (workflow, step) always yields the same message id.
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = id.into();
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Ping {
        n: u32,
    }
    impl Message for Ping {
        const TYPE: &'static str = "test.ping";
        const VERSION: u32 = 2;
    }

    #[test]
    fn serialises_with_the_wire_field_names() {
        let env = Envelope::new("wf-1", "corr-1", Ping { n: 7 }).with_id("m-1");
        let json = serde_json::to_value(&env).unwrap();
        assert_eq!(json["type"], "test.ping");
        assert_eq!(json["version"], 2);
        assert_eq!(json["id"], "m-1");
        assert_eq!(json["workflow_id"], "wf-1");
        assert_eq!(json["correlation_id"], "corr-1");
        assert_eq!(json["payload"]["n"], 7);
        assert!(json["occurred_at"].as_str().unwrap().ends_with('Z'));
    }
}
