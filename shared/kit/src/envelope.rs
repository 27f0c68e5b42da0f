//! The one envelope every message between steps travels in.

use chrono::{DateTime, Utc};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use uuid::Uuid;

use crate::clock::Clock;

/// A message type: its name on the wire and the payload version this code writes and reads.
pub trait Message: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The `type` on the wire (`report.requested`).
    const TYPE: &'static str;
    /// The payload version this code writes and reads.
    const VERSION: u32;
}

/// `{type, version, id, workflow_id, correlation_id, occurred_at, payload}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope<P> {
    /// The message type (`type` on the wire).
    #[serde(rename = "type")]
    pub kind: String,
    /// The payload version.
    pub version: u32,
    /// Unique per message; a re-publish of the same event keeps it, so consumers can dedupe.
    pub id: String,
    /// The workflow this message belongs to.
    pub workflow_id: String,
    /// Carried unchanged from the first step, for joining logs across steps.
    pub correlation_id: String,
    /// When the event happened.
    pub occurred_at: DateTime<Utc>,
    /// The message itself.
    pub payload: P,
}

impl<P: Message> Envelope<P> {
    /// A new event in an existing workflow, carrying the caller's correlation id,
    /// stamped with the wall clock. Steps that take a [`Clock`] use [`Envelope::at`].
    pub fn new(workflow_id: impl Into<String>, correlation_id: impl Into<String>, payload: P) -> Self {
        Self::stamped(workflow_id, correlation_id, payload, Utc::now())
    }

    /// A new event stamped with `clock`'s time, so tests with a
    /// [`FixedClock`](crate::clock::FixedClock) see the time they set.
    ///
    /// ```
    /// use kit::clock::FixedClock;
    /// use kit::{Envelope, Message};
    ///
    /// #[derive(serde::Serialize, serde::Deserialize)]
    /// struct Shipped { parcel: String }
    /// impl Message for Shipped {
    ///     const TYPE: &'static str = "order.shipped";
    ///     const VERSION: u32 = 1;
    /// }
    ///
    /// let clock = FixedClock::at("2024-06-01T12:00:00Z".parse().unwrap());
    /// let event = Envelope::at(&clock, "order-1", "corr-1", Shipped { parcel: "p-9".into() }).with_id("order-1/shipped");
    /// assert_eq!(event.occurred_at.to_rfc3339(), "2024-06-01T12:00:00+00:00");
    /// assert_eq!((event.kind.as_str(), event.version), ("order.shipped", 1));
    /// ```
    pub fn at(
        clock: &(impl Clock + ?Sized),
        workflow_id: impl Into<String>,
        correlation_id: impl Into<String>,
        payload: P,
    ) -> Self {
        Self::stamped(workflow_id, correlation_id, payload, clock.now())
    }

    fn stamped(
        workflow_id: impl Into<String>,
        correlation_id: impl Into<String>,
        payload: P,
        occurred_at: DateTime<Utc>,
    ) -> Self {
        Self {
            kind: P::TYPE.to_owned(),
            version: P::VERSION,
            id: Uuid::new_v4().to_string(),
            workflow_id: workflow_id.into(),
            correlation_id: correlation_id.into(),
            occurred_at,
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

    #[test]
    fn an_envelope_at_a_clock_carries_the_clocks_time() {
        let t: DateTime<Utc> = "2020-01-02T03:04:05Z".parse().unwrap();
        let env = Envelope::at(&crate::clock::FixedClock::at(t), "wf-1", "corr-1", Ping { n: 1 });
        assert_eq!(env.occurred_at, t);
    }
}
