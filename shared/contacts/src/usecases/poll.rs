//! poll-contact: ask Connect where a contact is and move its state forward.

use chrono::{DateTime, Utc};
use kit::batch::Outcome;
use tracing::{info, warn};

use crate::contact::ContactId;
use crate::error::ContactError;
use crate::messages::PollContact;
use crate::ports::{ContactDirectory, ContactStore, Described};
use crate::state::ContactState;

/// Every answer ends the contact's poll claim (so the next sweep may poll it
/// again): moved on, unchanged, not a voice call, or unknown to Connect. A failed
/// call keeps the claim: the message itself comes back after the kit's backoff.
pub async fn poll_contact<S: ContactStore, D: ContactDirectory>(
    store: &S,
    directory: &D,
    message: &PollContact,
    now: DateTime<Utc>,
) -> Result<Outcome, ContactError> {
    let id = ContactId::parse(&message.contact_id)?;
    let Some(contact) = store.get(&id).await? else {
        // Completed in the queue and deleted by a sweep since this was sent.
        info!("contact no longer cached; nothing to poll");
        return Ok(Outcome::Duplicate);
    };
    if !contact.state.needs_polling() || contact.recording_state.is_some() {
        // A message from an earlier sweep, overtaken by another poll.
        return Ok(Outcome::Duplicate);
    }
    match directory.describe(&contact.instance_id, &id).await? {
        Described::Found(view) if !view.is_voice() => {
            // A chat or task that ran through a flow with a recording block: no
            // call recording will ever exist, so none is looked for.
            let set = store.not_applicable(&id, &view, now).await?;
            let channel = view.channel.map(|c| c.as_str()).unwrap_or_default();
            info!(channel, "not a voice contact: recording not applicable");
            Ok(if set { Outcome::Done } else { Outcome::Duplicate })
        }
        Described::Found(view) => {
            let next = ContactState::from_view(&view);
            if !contact.state.may_become(next) {
                store.polled(&id, now).await?;
                info!(state = %contact.state, "contact unchanged");
                return Ok(Outcome::Done);
            }
            if store.advance(&id, next, &view, now).await? {
                info!(from = %contact.state, to = %next, "contact moved");
                Ok(Outcome::Done)
            } else {
                // A twin poll moved it first (or further).
                Ok(Outcome::Duplicate)
            }
        }
        Described::Unknown { reason } => {
            let reason = format!("Connect does not know this contact: {reason}");
            let closed = store.close(&id, &reason, now).await?;
            warn!(%reason, "contact closed");
            Ok(if closed { Outcome::Done } else { Outcome::Duplicate })
        }
    }
}
