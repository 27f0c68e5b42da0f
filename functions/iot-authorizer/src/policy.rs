//! The policy a verified user gets: connect as themselves, subscribe to and
//! receive their own notification topic, nothing else (no publish, no other
//! topic, no wildcard). Pure: the handler verifies the token first.

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::event::AuthorizerResponse;

/// IoT's bounds for both durations.
pub const MIN_SECONDS: i64 = 300;
pub const MAX_SECONDS: i64 = 86_400;
/// How often IoT re-runs the authorizer on an open connection (its minimum):
/// a key the identity provider withdraws ends connections within five minutes.
pub const REFRESH_SECONDS: u32 = 300;

/// Where the grants point: `arn:{partition}:iot:{region}:{account}` and the
/// topic prefix send-notification publishes under (`notifications-`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicySettings {
    pub arn_prefix: String,
    pub topic_prefix: String,
}

/// Why a verified token still gets no policy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The `sub` cannot name a topic safely: MQTT's `/ + #`, whitespace, or IoT
    /// policy's own wildcards and variables (`* ? $`), which would widen the grant.
    #[error("the token's subject cannot name a notification topic")]
    Subject,
    #[error("the token has expired")]
    Expired,
}

/// Characters a subject may not hold: MQTT separators and wildcards, and IoT
/// policy wildcards (`*`, `?`) and variables (`${...}`) — a policy resource has no
/// escape for them, so `notifications-*` would grant every user's topic.
fn usable_subject(sub: &str) -> bool {
    audit::UserId::parse(sub).is_ok_and(|u| u.as_str() == sub) && !sub.contains(['*', '?', '$'])
}

/// IoT's principal id is `[a-zA-Z0-9]{1,128}`; user ids hold `-` and more, so it is
/// the SHA-256 of the subject in hex: stable, valid, and no user id in IoT's logs.
pub fn principal_id(sub: &str) -> String {
    hex::encode(Sha256::digest(sub.as_bytes()))
}

/// The client ids a user may connect with: their user id, or `{user id}/{anything}`
/// (one per browser tab). `/` cannot occur in a user id, so nobody can take
/// another user's client id and, as IoT does on a duplicate id, disconnect them.
pub fn client_id_resources(settings: &PolicySettings, sub: &str) -> [String; 2] {
    let base = format!("{}:client/{sub}", settings.arn_prefix);
    [base.clone(), format!("{base}/*")]
}

/// The connection's policy, or why there is none. `expires_at` and `now` are Unix
/// seconds: the connection ends when the token does (within IoT's 300 s minimum).
pub fn allow(settings: &PolicySettings, sub: &str, expires_at: i64, now: i64) -> Result<AuthorizerResponse, Refusal> {
    if !usable_subject(sub) {
        return Err(Refusal::Subject);
    }
    let remaining = expires_at.saturating_sub(now);
    if remaining <= 0 {
        return Err(Refusal::Expired);
    }
    let topic = audit::notification::topic(&settings.topic_prefix, sub);
    let prefix = &settings.arn_prefix;
    let document = json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "iot:Connect", "Resource": client_id_resources(settings, sub)},
            {"Effect": "Allow", "Action": "iot:Subscribe", "Resource": format!("{prefix}:topicfilter/{topic}")},
            {"Effect": "Allow", "Action": "iot:Receive", "Resource": format!("{prefix}:topic/{topic}")},
        ],
    });
    Ok(AuthorizerResponse {
        is_authenticated: true,
        principal_id: principal_id(sub),
        policy_documents: vec![document],
        disconnect_after_in_seconds: u32::try_from(remaining.clamp(MIN_SECONDS, MAX_SECONDS)).unwrap_or(300),
        refresh_after_in_seconds: REFRESH_SECONDS,
    })
}

/// The answer for a connection that is not let in: IoT closes it.
pub fn deny() -> AuthorizerResponse {
    AuthorizerResponse {
        is_authenticated: false,
        principal_id: "denied".to_owned(),
        policy_documents: Vec::<Value>::new(),
        disconnect_after_in_seconds: MIN_SECONDS as u32,
        refresh_after_in_seconds: REFRESH_SECONDS,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> PolicySettings {
        PolicySettings {
            arn_prefix: "arn:aws:iot:eu-west-2:123456789012".into(),
            topic_prefix: "notifications-".into(),
        }
    }

    const NOW: i64 = 1_700_000_000;
    /// IoT's limit on one policy document.
    const MAX_DOCUMENT_CHARS: usize = 2_048;

    #[test]
    fn a_user_may_connect_as_themselves_and_subscribe_to_and_receive_their_own_topic_only() {
        let response = allow(&settings(), "user-42", NOW + 3_600, NOW).unwrap();
        let json = serde_json::to_value(&response).unwrap();
        assert_eq!(json["isAuthenticated"], true);
        assert_eq!(json["disconnectAfterInSeconds"], 3_600, "the connection ends with the token");
        assert_eq!(json["refreshAfterInSeconds"], 300);
        let principal = json["principalId"].as_str().unwrap();
        assert!((1..=128).contains(&principal.len()) && principal.chars().all(|c| c.is_ascii_alphanumeric()));
        assert!(!principal.contains("user-42"), "no user id in IoT's logs");
        assert_eq!(
            json["policyDocuments"],
            json!([{
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": "iot:Connect", "Resource": [
                        "arn:aws:iot:eu-west-2:123456789012:client/user-42",
                        "arn:aws:iot:eu-west-2:123456789012:client/user-42/*"]},
                    {"Effect": "Allow", "Action": "iot:Subscribe",
                     "Resource": "arn:aws:iot:eu-west-2:123456789012:topicfilter/notifications-user-42"},
                    {"Effect": "Allow", "Action": "iot:Receive",
                     "Resource": "arn:aws:iot:eu-west-2:123456789012:topic/notifications-user-42"},
                ],
            }])
        );
        let text = serde_json::to_string(&json["policyDocuments"][0]).unwrap();
        assert!(text.len() <= MAX_DOCUMENT_CHARS);
        assert!(!text.contains("iot:Publish"), "nobody publishes");
        assert_eq!(text.matches('*').count(), 1, "the one wildcard: the user's own client ids");
    }

    #[test]
    fn durations_stay_within_iot_bounds() {
        let short = allow(&settings(), "u", NOW + 10, NOW).unwrap();
        assert_eq!(short.disconnect_after_in_seconds, 300);
        let long = allow(&settings(), "u", NOW + 7 * 86_400, NOW).unwrap();
        assert_eq!(long.disconnect_after_in_seconds, 86_400);
        assert_eq!(allow(&settings(), "u", NOW, NOW), Err(Refusal::Expired));
    }

    #[test]
    fn subjects_that_would_widen_the_grant_are_refused() {
        for sub in ["*", "a*", "?", "a?b", "${iot:ClientId}", "a/b", "+", "#", " a", "a b", ""] {
            assert_eq!(allow(&settings(), sub, NOW + 600, NOW), Err(Refusal::Subject), "{sub:?}");
        }
    }

    #[test]
    fn a_denial_is_unauthenticated_with_no_policy() {
        let json = serde_json::to_value(deny()).unwrap();
        assert_eq!(json["isAuthenticated"], false);
        assert_eq!(json["policyDocuments"], json!([]));
        assert!(json["principalId"].as_str().unwrap().chars().all(|c| c.is_ascii_alphanumeric()));
    }
}
