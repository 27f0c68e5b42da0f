//! The service routes' JSON bodies, read without echoing them: serde quotes the
//! offending value in its messages, and in a request that may be an address.

use serde::de::DeserializeOwned;

/// A body that is not the JSON a route takes. The reason names what is wrong
/// (a missing field, a type), never a value that was sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid JSON body: {0}")]
pub struct InvalidJson(String);

pub fn json_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, InvalidJson> {
    serde_json::from_slice(body).map_err(|e| InvalidJson(kit::decode::redacted(&e)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Submission;

    #[test]
    fn a_wrong_body_says_why_without_quoting_it() {
        let err = json_body::<Submission>(br#"{"issue_id": 1, "approvers": "someone@example.org"}"#).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("invalid JSON body: "), "{text}");
        assert!(!text.contains("someone@"), "{text}");
        assert!(json_body::<Submission>(b"").is_err());
    }
}
