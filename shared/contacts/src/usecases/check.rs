//! check-recording: look for a completed agent call's recording; after the grace
//! period without one, mark it unrecorded and alert once, unless its flow had
//! recording off when the agent connected (then no recording is expected).

use std::time::Duration;

use chrono::{DateTime, Utc};
use kit::batch::Outcome;
use kit::publisher::EventPublisher;
use tracing::{info, warn};

use crate::contact::{Contact, ContactId};
use crate::error::ContactError;
use crate::expectation::Expectation;
use crate::messages::{envelope, CheckRecording, RecordingMissing};
use crate::ports::{ContactStore, RecordingArchive};
use crate::recording::{candidate_prefixes, verdict, Verdict};
use crate::state::{ContactState, RecordingState};
use crate::time::render;

#[derive(Debug, Clone)]
pub struct CheckSettings {
    /// The instance's recording prefix in the bucket (`connect/{alias}/CallRecordings`).
    pub key_prefix: String,
    /// How long after the call a recording may still arrive.
    pub grace: Duration,
}

pub async fn check_recording<S: ContactStore, A: RecordingArchive, P: EventPublisher>(
    store: &S,
    archive: &A,
    alerts: &P,
    settings: &CheckSettings,
    message: &CheckRecording,
    now: DateTime<Utc>,
) -> Result<Outcome, ContactError> {
    let id = ContactId::parse(&message.contact_id)?;
    let Some(contact) = store.get(&id).await? else {
        return Ok(Outcome::Duplicate);
    };
    if contact.state != ContactState::CompletedAgent {
        return Ok(Outcome::Duplicate);
    }
    match (contact.recording_state, contact.alert_sent_at) {
        // Marked missing, but the alert did not go out: send it now.
        (Some(RecordingState::Missing), None) => {
            let prefixes = candidate_prefixes(&settings.key_prefix, &contact);
            return alert(store, alerts, &contact, prefixes, now).await;
        }
        (Some(_), _) => return Ok(Outcome::Duplicate),
        (None, _) => {}
    }
    let prefixes = candidate_prefixes(&settings.key_prefix, &contact);
    let found = archive.find(&prefixes).await?;
    match verdict(found, contact.ended_at(), now, settings.grace) {
        Verdict::Recorded { key } => {
            let set = store.record_recording(&id, RecordingState::Recorded, Some(&key), now).await?;
            info!(recording_key = %key, "call recorded");
            Ok(if set { Outcome::Done } else { Outcome::Duplicate })
        }
        Verdict::TooEarly { missing_since } => {
            info!(missing_for_secs = missing_since.as_secs(), "no recording yet; the next sweep looks again");
            Ok(Outcome::Done)
        }
        Verdict::Missing => {
            // Decided only now, after the grace period, so flow-log batches that
            // came late (out of order, or retried) are among the settings too.
            if let Expectation::NotRecorded(because) = contact.expectation() {
                let set = store.record_recording(&id, RecordingState::NotExpected, None, now).await?;
                info!(reason = because.as_str(), "no recording, and none expected");
                return Ok(if set { Outcome::Done } else { Outcome::Duplicate });
            }
            if !store.record_recording(&id, RecordingState::Missing, None, now).await? {
                // A twin got there first: alert only if it has not.
                return match store.get(&id).await? {
                    Some(c) if c.recording_state == Some(RecordingState::Missing) && c.alert_sent_at.is_none() => {
                        alert(store, alerts, &c, prefixes, now).await
                    }
                    _ => Ok(Outcome::Duplicate),
                };
            }
            let mut marked = contact;
            marked.recording_state = Some(RecordingState::Missing);
            marked.recording_checked_at = Some(now);
            alert(store, alerts, &marked, prefixes, now).await
        }
    }
}

/// How long one attempt holds the right to send an alert: well past the function's
/// timeout, so a crashed attempt's claim expires before the next sweep.
const ALERT_CLAIM: chrono::Duration = chrono::Duration::seconds(120);

/// Claims the alert (two attempts at once would send two), publishes it (its id is
/// fixed per contact), then notes it as sent. A crash between the publish and the
/// note sends it again once the claim expires: at least once, once in practice.
async fn alert<S: ContactStore, P: EventPublisher>(
    store: &S,
    alerts: &P,
    contact: &Contact,
    looked_under: Vec<String>,
    now: DateTime<Utc>,
) -> Result<Outcome, ContactError> {
    if !store.claim_alert(&contact.contact_id, now, now + ALERT_CLAIM).await? {
        // Sent already, or another attempt is sending it now.
        return Ok(Outcome::Duplicate);
    }
    let payload = RecordingMissing {
        contact_id: contact.contact_id.to_string(),
        instance_id: contact.instance_id.to_string(),
        agent_connected_at: contact.agent_connected_at.map(render),
        disconnected_at: contact.disconnected_at.map(render),
        checked_at: render(contact.recording_checked_at.unwrap_or(now)),
        looked_under,
    };
    if let Err(e) = alerts.publish(&envelope(&contact.contact_id, "alert", payload)).await {
        // Best effort: an unreleased claim only delays the retry until it expires.
        if let Err(release) = store.release_alert(&contact.contact_id).await {
            warn!(error = %kit::error::chain(&release), "could not release the alert claim; the retry waits for it to expire");
        }
        return Err(e.into());
    }
    store.mark_alerted(&contact.contact_id, now).await?;
    warn!("call recording missing after the grace period: alert published");
    Ok(Outcome::Done)
}
