//! Opaque pagination cursors: the last key of a page as base64url JSON. Each is
//! checked against the query it is used with before it reaches DynamoDB.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{de::DeserializeOwned, Deserialize, Serialize};

use crate::error::InvalidInput;
use crate::ports::AuditQuery;

const MAX_CURSOR_CHARS: usize = 2048;

fn encode<T: Serialize>(value: &T) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap_or_default())
}

fn decode<T: DeserializeOwned>(text: &str) -> Result<T, InvalidInput> {
    let bad = || InvalidInput::new("the `next` cursor is not one this API issued");
    if text.len() > MAX_CURSOR_CHARS {
        return Err(bad());
    }
    let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| bad())?;
    serde_json::from_slice(&bytes).map_err(|_| bad())
}

/// Where an audit search stopped: the record's key, plus the index key it was found by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditCursor {
    #[serde(rename = "w")]
    pub workflow_id: String,
    #[serde(rename = "s")]
    pub seq: u64,
    /// The index partition (actor or scheme), for index queries.
    #[serde(rename = "k", default, skip_serializing_if = "Option::is_none")]
    pub index_key: Option<String>,
    #[serde(rename = "t", default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
}

impl AuditCursor {
    pub fn encode(&self) -> String {
        encode(self)
    }

    /// Decodes `text` and checks it continues `query` (not another search's pages).
    pub fn decode_for(text: &str, query: &AuditQuery) -> Result<Self, InvalidInput> {
        let cursor: Self = decode(text)?;
        let fits = match query {
            AuditQuery::Workflow { workflow_id } => {
                cursor.workflow_id == *workflow_id && cursor.index_key.is_none() && cursor.at.is_none()
            }
            AuditQuery::Actor { actor } => cursor.index_key.as_deref() == Some(actor) && cursor.at.is_some(),
            AuditQuery::Scheme { scheme, from, to } => {
                cursor.index_key.as_deref() == Some(scheme)
                    && cursor.at.as_deref().is_some_and(|t| from.as_str() <= t && t <= to.as_str())
            }
        };
        if fits {
            Ok(cursor)
        } else {
            Err(InvalidInput::new("the `next` cursor belongs to another search"))
        }
    }
}

/// Where a notification listing stopped (the user is the path's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationCursor {
    #[serde(rename = "n")]
    pub notification_id: String,
    #[serde(rename = "t")]
    pub created_key: String,
}

impl NotificationCursor {
    pub fn encode(&self) -> String {
        encode(self)
    }
    pub fn decode(text: &str) -> Result<Self, InvalidInput> {
        decode(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_only_continue_their_own_search() {
        let by_actor = AuditQuery::Actor { actor: "bob".into() };
        let c = AuditCursor {
            workflow_id: "wf".into(),
            seq: 2,
            index_key: Some("bob".into()),
            at: Some("2024-06-01T12:00:00.000000Z".into()),
        };
        assert_eq!(AuditCursor::decode_for(&c.encode(), &by_actor).unwrap(), c);
        assert!(AuditCursor::decode_for(&c.encode(), &AuditQuery::Actor { actor: "eve".into() }).is_err());
        assert!(AuditCursor::decode_for(&c.encode(), &AuditQuery::Workflow { workflow_id: "wf".into() }).is_err());
        let scheme = AuditQuery::Scheme { scheme: "bob".into(), from: "2025".into(), to: "2026".into() };
        assert!(AuditCursor::decode_for(&c.encode(), &scheme).is_err(), "outside the range");
        assert!(AuditCursor::decode_for("!!", &by_actor).is_err());
        assert!(NotificationCursor::decode("e30").is_err(), "{{}} lacks fields");
    }
}
