//! Opaque pagination cursors: the last key of a page, base64url-encoded JSON.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};

/// Where the previous page stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// Sort key of the last item.
    #[serde(rename = "s")]
    pub sk: String,
    /// Index key of the last item.
    #[serde(rename = "t")]
    pub activity_time: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the `next` cursor is not one this API issued")]
pub struct BadCursor;

impl Cursor {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    pub fn decode(text: &str) -> Result<Self, BadCursor> {
        if text.len() > 1024 {
            return Err(BadCursor);
        }
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| BadCursor)?;
        let cursor: Cursor = serde_json::from_slice(&bytes).map_err(|_| BadCursor)?;
        // Only keys of the activity log are acceptable starting points.
        if !cursor.sk.starts_with(crate::keys::EVENT_PREFIX) || cursor.activity_time.is_empty() {
            return Err(BadCursor);
        }
        Ok(cursor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_foreign_text() {
        let c = Cursor { sk: "EVENT#e1".into(), activity_time: "00000000000000000001#e1".into() };
        assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        assert_eq!(Cursor::decode("!!!"), Err(BadCursor));
        let foreign = Cursor { sk: "SERVICE#x".into(), activity_time: "1".into() };
        assert_eq!(Cursor::decode(&foreign.encode()), Err(BadCursor));
    }
}
