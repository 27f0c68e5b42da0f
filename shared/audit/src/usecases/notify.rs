//! The notification step (store, then publish to each recipient's topic) and the
//! users' own notification list.

use chrono::{DateTime, Utc};
use kit::batch::Outcome;
use kit::Envelope;
use tracing::info;

use super::parse_limit;
use crate::cursor::NotificationCursor;
use crate::error::AuditError;
use crate::messages::WorkflowAction;
use crate::notification::{recipients, topic, Notification};
use crate::ports::{NotificationPage, NotificationReader, NotificationStore, RealtimeChannel};
use crate::time::render;
use crate::workflow::{Caller, Refusal};

/// One notification per recipient, stored under a deterministic id, then published
/// to `{prefix}{user}` and marked `published_at`. A redelivery finds each stored
/// and, if marked, does not publish it again; a crash between publish and mark
/// publishes it once more (at least once, like MQTT QoS 1 itself: subscribers
/// dedupe by `notificationId`). A message naming a recipient that is no user id
/// is refused before anything is stored or published.
pub async fn notify<S: NotificationStore + ?Sized, C: RealtimeChannel + ?Sized>(
    store: &S,
    channel: &C,
    topic_prefix: &str,
    event: &Envelope<WorkflowAction>,
    now: DateTime<Utc>,
) -> Result<Outcome, AuditError> {
    let mut acted = false;
    for user in recipients(&event.payload)? {
        let fresh = Notification::for_recipient(event, &user);
        let current = match store.put(&fresh).await? {
            None => {
                acted = true;
                fresh
            }
            Some(existing) => existing,
        };
        if current.published_at.is_some() {
            continue;
        }
        let payload = serde_json::to_vec(&current.realtime_payload()).unwrap_or_default();
        channel.publish(&topic(topic_prefix, &user), payload).await?;
        store.mark_published(&user, &current.notification_id, &render(now)).await?;
        acted = true;
        info!(workflow_id = %current.workflow_id, seq = current.seq, notification_id = %current.notification_id, "notification published");
    }
    Ok(if acted { Outcome::Done } else { Outcome::Duplicate })
}

fn own(caller: &Caller, user_id: &str) -> Result<(), AuditError> {
    if caller.user.as_str() == user_id {
        Ok(())
    } else {
        Err(Refusal::Forbidden("you may only read your own notifications".into()).into())
    }
}

/// A page of the user's notifications and how many are unread.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    pub page: NotificationPage,
    pub unread: u64,
}

/// `GET /users/{user_id}/notifications`: the caller's own, newest first.
pub async fn list_notifications<R: NotificationReader + ?Sized>(
    reader: &R,
    caller: &Caller,
    user_id: &str,
    limit: Option<&str>,
    next: Option<&str>,
) -> Result<Listed, AuditError> {
    own(caller, user_id)?;
    let limit = parse_limit(limit)?;
    let after = next.map(str::trim).filter(|n| !n.is_empty()).map(NotificationCursor::decode).transpose()?;
    let page = reader.list(user_id, limit, after).await?;
    let unread = reader.unread_count(user_id).await?;
    Ok(Listed { page, unread })
}

/// `POST /users/{user_id}/notifications/{id}/read`: idempotent, the first read time stays.
pub async fn mark_read<R: NotificationReader + ?Sized>(
    reader: &R,
    caller: &Caller,
    user_id: &str,
    notification_id: &str,
    now: DateTime<Utc>,
) -> Result<Notification, AuditError> {
    own(caller, user_id)?;
    if uuid::Uuid::parse_str(notification_id).is_err() {
        return Err(AuditError::NotFound);
    }
    reader.mark_read(user_id, notification_id, &render(now)).await?.ok_or(AuditError::NotFound)
}
