//! What the state rules need from a DescribeContact answer, and nothing else: the
//! answer also holds the customer's phone number, which must never travel further.

use chrono::{DateTime, Utc};

/// DescribeContact's `Channel`: only voice calls have call recordings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    Voice,
    Chat,
    Task,
    Email,
    /// A channel Connect added after this was written: not a voice call.
    Other,
}

impl Channel {
    pub fn parse(text: &str) -> Self {
        match text.trim().to_ascii_uppercase().as_str() {
            "VOICE" => Channel::Voice,
            "CHAT" => Channel::Chat,
            "TASK" => Channel::Task,
            "EMAIL" => Channel::Email,
            _ => Channel::Other,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Voice => "VOICE",
            Channel::Chat => "CHAT",
            Channel::Task => "TASK",
            Channel::Email => "EMAIL",
            Channel::Other => "OTHER",
        }
    }
}

/// A contact as Connect describes it, reduced to the facts the rules read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ContactView {
    /// `Channel`; None when the answer did not say (read as voice: checked).
    pub channel: Option<Channel>,
    pub initiated_at: Option<DateTime<Utc>>,
    /// `AgentInfo.ConnectedToAgentTimestamp`: an agent actually took the call. An
    /// `AgentInfo` without it (offered, never answered) records nothing, so it
    /// counts as "no agent".
    pub agent_connected_at: Option<DateTime<Utc>>,
    pub disconnected_at: Option<DateTime<Utc>>,
}

impl ContactView {
    pub fn spoke_to_agent(&self) -> bool {
        self.agent_connected_at.is_some()
    }

    /// Only voice contacts have call recordings to look for; a chat or task that
    /// ran through a shared flow (and its recording block) has none.
    pub fn is_voice(&self) -> bool {
        self.channel.is_none_or(|c| c == Channel::Voice)
    }

    /// Reads DescribeContact's JSON wire body (`{"Contact": {...}}`, timestamps in
    /// epoch seconds), as the fixtures in `events/poll-contact/` hold it.
    #[cfg(any(test, feature = "testing"))]
    pub fn from_wire(body: &serde_json::Value) -> Option<Self> {
        let contact = body.get("Contact")?;
        let time = |v: Option<&serde_json::Value>| {
            let secs = v?.as_f64()?;
            DateTime::from_timestamp_millis((secs * 1000.0).round() as i64)
        };
        Some(Self {
            channel: contact.get("Channel").and_then(serde_json::Value::as_str).map(Channel::parse),
            initiated_at: time(contact.get("InitiationTimestamp")),
            agent_connected_at: time(contact.get("AgentInfo").and_then(|a| a.get("ConnectedToAgentTimestamp"))),
            disconnected_at: time(contact.get("DisconnectTimestamp")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::ContactState;

    /// The seed's four DescribeContact responses, as Connect sends them on the wire.
    fn fixture(name: &str) -> serde_json::Value {
        let path = format!("{}/../../events/poll-contact/{name}.json", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        serde_json::from_str(&text).unwrap()
    }

    #[test]
    fn the_seeds_four_responses_map_to_the_four_states() {
        for (name, state) in [
            ("completed-agent", ContactState::CompletedAgent),
            ("in-progress-agent", ContactState::InProgressAgent),
            ("completed-queue", ContactState::CompletedQueue),
            ("in-progress-queue", ContactState::InProgressQueue),
        ] {
            let view = ContactView::from_wire(&fixture(name)).unwrap();
            assert_eq!(ContactState::from_view(&view), state, "{name}");
            assert!(view.initiated_at.is_some(), "{name}");
            assert_eq!(view.channel, Some(Channel::Voice), "{name}");
            assert!(view.is_voice());
        }
    }

    #[test]
    fn reads_the_agents_connection_time_to_the_millisecond() {
        let view = ContactView::from_wire(&fixture("completed-agent")).unwrap();
        assert_eq!(crate::time::render(view.agent_connected_at.unwrap()), "2023-08-29T10:30:11.038Z");
        assert_eq!(crate::time::render(view.disconnected_at.unwrap()), "2023-08-29T10:31:10.343Z");
    }
}
