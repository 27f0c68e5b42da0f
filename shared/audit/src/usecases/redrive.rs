//! announce-workflow: an operator's redrive of a workflow whose accepted action was
//! never announced. The workflows table takes writes from the workflow API and
//! from this step only, so the redrive goes through it: it publishes the stored
//! event (the same envelope the API would have published, its id deterministic per
//! action, so consumers dedupe) and marks it announced, with the redrive recorded
//! in the same write.

use kit::batch::Outcome;
use kit::publisher::EventPublisher;
use kit::redrive::Redrive;
use tracing::info;

use crate::error::AuditError;
use crate::ids::WorkflowId;
use crate::messages::AnnounceAgain;
use crate::ports::{RedriveLog, StoreError, WorkflowStore};

/// The step's name, as the redrive record shows it.
pub const ANNOUNCE_STEP: &str = "announce-workflow";

pub async fn announce_again<S, P>(store: &S, publisher: &P, request: &AnnounceAgain) -> Result<Outcome, AuditError>
where
    S: WorkflowStore + RedriveLog,
    P: EventPublisher,
{
    let id = WorkflowId::parse(&request.workflow_id)?;
    let Some(wf) = store.get(id.as_str()).await? else {
        return Err(AuditError::NotFound);
    };
    if wf.is_announced() {
        // Announced since ops looked (the next request does it too), or a redelivery.
        info!(workflow_id = %wf.workflow_id, seq = wf.seq, "already announced: nothing to redrive");
        return Ok(Outcome::Duplicate);
    }
    let Some(event) = &wf.last_event else {
        return Err(StoreError::malformed(
            "item",
            format!("workflow {} has no event for seq {}", wf.workflow_id, wf.seq),
        )
        .into());
    };
    publisher.publish(event).await.map_err(|source| AuditError::NotAnnounced {
        workflow_id: wf.workflow_id.clone(),
        seq: wf.seq,
        source,
    })?;
    let redrive =
        Redrive { at: request.requested_at, by: request.requested_by.clone(), step: ANNOUNCE_STEP.to_owned() };
    if store.announced_by_redrive(&wf.workflow_id, wf.seq, &redrive).await? {
        info!(workflow_id = %wf.workflow_id, seq = wf.seq, "action announced by a redrive");
        Ok(Outcome::Done)
    } else {
        // The API announced it meanwhile; the consumers dedupe our publish.
        Ok(Outcome::Duplicate)
    }
}
