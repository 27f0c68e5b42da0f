//! Notifications: who hears of an action, what they are told, and the payload
//! published to their real-time topic `notifications-{user}`.

use kit::Envelope;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::error::InvalidInput;
use crate::ids::UserId;
use crate::messages::WorkflowAction;
use crate::time::render;
use crate::workflow::ActionKind;

/// Namespace of notification ids (UUID v5 of `{workflow_id}/{seq}/{user}`).
const NOTIFICATION_NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x8b0e_52c1_7d3a_4f69_b2e4_1c9a_0f6d_3e75);

/// One id per (action, recipient): a redelivered action finds the same notification.
pub fn notification_id(workflow_id: &str, seq: u64, user: &str) -> String {
    uuid::Uuid::new_v5(&NOTIFICATION_NAMESPACE, format!("{workflow_id}/{seq}/{user}").as_bytes()).to_string()
}

/// Who is told: a save concerns its requester only (a draft is nobody else's
/// business yet); a request, approval or rejection concerns the requester and
/// every approver. The actor is told too: their other sessions update.
///
/// Each recipient names an MQTT topic, so each must be a user id exactly as the
/// API issues them: a `+`, `#` or `/` in a message must not pick the topics it is
/// published to. A message naming anyone else was not written by the API and is
/// refused whole (the reason does not quote the name).
pub fn recipients(action: &WorkflowAction) -> Result<Vec<String>, InvalidInput> {
    let approvers = if action.action == ActionKind::Save { &[][..] } else { &action.approvers[..] };
    let mut out: Vec<String> = Vec::new();
    for raw in std::iter::once(&action.owner).chain(approvers) {
        if !UserId::parse(raw).is_ok_and(|u| u.as_str() == raw) {
            return Err(InvalidInput::new("the action names a recipient that is not a user id"));
        }
        if !out.contains(raw) {
            out.push(raw.clone());
        }
    }
    Ok(out)
}

/// The user's topic: `{prefix}{user}` (`notifications-64ea…`, as in the seed).
pub fn topic(prefix: &str, user: &str) -> String {
    format!("{prefix}{user}")
}

/// A notification as stored in its recipient's partition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    pub user_id: String,
    pub notification_id: String,
    pub workflow_id: String,
    pub seq: u64,
    pub action: String,
    pub actor: String,
    pub scheme: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    pub message: String,
    /// The action's time (so a redelivery writes the same item).
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_at: Option<String>,
    /// When it was published to the user's topic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_at: Option<String>,
}

impl Notification {
    pub fn for_recipient(event: &Envelope<WorkflowAction>, user: &str) -> Self {
        let a = &event.payload;
        Self {
            user_id: user.to_owned(),
            notification_id: notification_id(&a.workflow_id, a.seq, user),
            workflow_id: a.workflow_id.clone(),
            seq: a.seq,
            action: a.action.as_str().to_owned(),
            actor: a.actor.clone(),
            scheme: a.scheme.clone(),
            title: a.title.clone(),
            comment: a.comment.clone(),
            message: message(a),
            created_at: render(a.at),
            read_at: None,
            published_at: None,
        }
    }

    pub fn is_read(&self) -> bool {
        self.read_at.is_some()
    }

    /// What the user's subscribers receive: the seed's `{notification, notificationId}`.
    pub fn realtime_payload(&self) -> Value {
        json!({
            "notificationId": self.notification_id,
            "notification": {
                "workflow_id": self.workflow_id,
                "seq": self.seq,
                "action": self.action,
                "actor": self.actor,
                "scheme": self.scheme,
                "title": self.title,
                "comment": self.comment,
                "message": self.message,
                "created_at": self.created_at,
            },
        })
    }
}

fn message(a: &WorkflowAction) -> String {
    let what = a.title.as_deref().map_or_else(|| format!("workflow {}", a.workflow_id), |t| format!("\"{t}\""));
    match a.action {
        ActionKind::Save if a.seq == 1 => format!("{} created {what} as a draft", a.actor),
        ActionKind::Save => format!("{} saved {what}", a.actor),
        ActionKind::Request => format!("{} requested approval of {what}", a.actor),
        ActionKind::Approve => format!("{} approved {what}", a.actor),
        ActionKind::Reject => format!("{} rejected {what}", a.actor),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roles::Role;
    use crate::workflow::WorkflowState;

    fn action(kind: ActionKind, seq: u64) -> WorkflowAction {
        WorkflowAction {
            workflow_id: "wf-1".into(),
            seq,
            scheme: "grants".into(),
            title: Some("Roof".into()),
            owner: "alice".into(),
            approvers: vec!["bob".into(), "carol".into(), "alice".into()],
            action: kind,
            actor: "bob".into(),
            actor_roles: vec![Role::Approver],
            from_state: Some(WorkflowState::Requested),
            to_state: WorkflowState::Approved,
            step_id: "approval".into(),
            at: "2024-06-01T12:00:00Z".parse().unwrap(),
            comment: Some("fine".into()),
            data: None,
        }
    }

    #[test]
    fn saves_tell_the_requester_and_decisions_tell_everyone_once() {
        assert_eq!(recipients(&action(ActionKind::Save, 2)).unwrap(), vec!["alice"]);
        assert_eq!(recipients(&action(ActionKind::Approve, 3)).unwrap(), vec!["alice", "bob", "carol"]);
    }

    #[test]
    fn a_recipient_that_is_no_user_id_is_refused_unquoted() {
        for bad in ["+", "#", "alice/#", " bob", ""] {
            let mut a = action(ActionKind::Approve, 3);
            a.approvers.push(bad.into());
            let err = recipients(&a).unwrap_err().to_string();
            assert!(bad.trim().is_empty() || !err.contains(bad.trim()), "{err}");
        }
        let mut save = action(ActionKind::Save, 2);
        save.owner = "alice+bob".into();
        assert!(recipients(&save).is_err(), "the owner is checked too");
    }

    #[test]
    fn ids_are_per_action_and_recipient_and_stable() {
        let a = notification_id("wf-1", 3, "alice");
        assert_eq!(a, notification_id("wf-1", 3, "alice"));
        assert_ne!(a, notification_id("wf-1", 3, "bob"));
        assert_ne!(a, notification_id("wf-1", 4, "alice"));
    }

    #[test]
    fn the_realtime_payload_has_the_seed_shape() {
        let event = Envelope::new("wf-1", "c", action(ActionKind::Approve, 3));
        let n = Notification::for_recipient(&event, "alice");
        assert_eq!(n.message, "bob approved \"Roof\"");
        assert_eq!(n.created_at, "2024-06-01T12:00:00.000000Z");
        let payload = n.realtime_payload();
        assert_eq!(payload["notificationId"], n.notification_id.as_str());
        assert_eq!(payload["notification"]["action"], "approve");
        assert_eq!(topic("notifications-", "alice"), "notifications-alice");
    }
}
