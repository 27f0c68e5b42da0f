//! poll-contact: ask Connect where a contact is and move its state forward.

use chrono::{DateTime, Utc};
use kit::batch::Outcome;
use tracing::{info, warn};

use crate::contact::ContactId;
use crate::error::ContactError;
use crate::messages::PollContact;
use crate::ports::{ContactDirectory, ContactStore, Described};
use crate::state::ContactState;

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
    if !contact.state.needs_polling() {
        // A message from an earlier sweep, overtaken by another poll.
        return Ok(Outcome::Duplicate);
    }
    match directory.describe(&contact.instance_id, &id).await? {
        Described::Found(view) => {
            let next = ContactState::from_view(&view);
            if !contact.state.may_become(next) {
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
