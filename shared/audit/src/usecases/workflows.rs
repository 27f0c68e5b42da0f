//! Creating workflows and acting on them (the workflow API).
//!
//! An accepted action is one conditional write on the workflow item: new state,
//! seq + 1, and the action's event stored as `last_event`; then the event is
//! published and `announced_seq` set. The write requires the previous action to be
//! announced, so at most the last event of a workflow can ever be unpublished, and
//! it is published again by the next request that touches the workflow — a client
//! retrying after a 503 gets its original action back (`replayed`), not a 409.

use chrono::{DateTime, Utc};
use kit::error::chain;
use kit::publisher::EventPublisher;
use kit::Envelope;
use serde_json::Value;
use tracing::{info, warn};

use crate::canonical;
use crate::error::{AuditError, InvalidInput};
use crate::ids::WorkflowId;
use crate::messages::{event_id, WorkflowAction};
use crate::ports::WorkflowStore;
use crate::request::{ActionBody, ActionRequest, NewWorkflow, NewWorkflowBody};
use crate::time::stamp;
use crate::workflow::{decide, may_create, step_id, ActionKind, Caller, Workflow, WorkflowState};

/// What the API knows about the request besides its body.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub now: DateTime<Utc>,
    pub correlation_id: String,
}

/// An accepted action (or, `replayed`, the same action accepted earlier).
#[derive(Debug, Clone, PartialEq)]
pub struct Accepted {
    pub workflow: Workflow,
    pub replayed: bool,
}

struct ActionFacts<'a> {
    action: ActionKind,
    from: Option<WorkflowState>,
    caller: &'a Caller,
    comment: Option<String>,
    data: Option<Value>,
}

/// The event of the action that made `wf` what it is (its seq, state and time).
fn event_for(wf: &Workflow, facts: ActionFacts<'_>, correlation_id: &str) -> Envelope<WorkflowAction> {
    let payload = WorkflowAction {
        workflow_id: wf.workflow_id.clone(),
        seq: wf.seq,
        scheme: wf.scheme.clone(),
        title: wf.title.clone(),
        owner: wf.owner.clone(),
        approvers: wf.approvers.clone(),
        action: facts.action,
        actor: facts.caller.user.to_string(),
        actor_roles: facts.caller.roles.to_vec(),
        from_state: facts.from,
        to_state: wf.state,
        step_id: step_id(facts.from).to_owned(),
        at: wf.updated_at,
        comment: facts.comment,
        data: facts.data,
    };
    let mut event =
        Envelope::new(wf.workflow_id.clone(), correlation_id, payload).with_id(event_id(&wf.workflow_id, wf.seq));
    event.occurred_at = wf.updated_at;
    event
}

/// Publishes the workflow's pending event, if any, and records that it went out.
async fn announce<S: WorkflowStore + ?Sized, P: EventPublisher>(
    store: &S,
    publisher: &P,
    wf: &mut Workflow,
) -> Result<(), AuditError> {
    if wf.is_announced() {
        return Ok(());
    }
    let Some(event) = &wf.last_event else {
        return Err(crate::ports::StoreError::malformed(
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
    info!(workflow_id = %wf.workflow_id, seq = wf.seq, action = event.payload.action.as_str(), "action announced");
    if let Err(e) = store.mark_announced(&wf.workflow_id, wf.seq).await {
        // The next request publishes it again (same message id; consumers dedupe).
        warn!(error = %chain(&e), "could not record the announcement");
        return Ok(());
    }
    wf.announced_seq = wf.seq;
    Ok(())
}

/// The caller's request is the workflow's last action (a client retrying).
fn is_replay(
    wf: &Workflow,
    caller: &Caller,
    action: ActionKind,
    data: &Option<Value>,
    comment: &Option<String>,
) -> bool {
    let Some(last) = wf.last_event.as_ref().map(|e| &e.payload) else {
        return false;
    };
    last.actor == caller.user.as_str()
        && last.action == action
        && last.comment == *comment
        && last.data.as_ref().map(canonical::to_string) == data.as_ref().map(canonical::to_string)
}

async fn visible<S: WorkflowStore + ?Sized>(
    store: &S,
    caller: &Caller,
    workflow_id: &str,
) -> Result<Workflow, AuditError> {
    let id = WorkflowId::parse(workflow_id)?;
    match store.get(id.as_str()).await? {
        Some(wf) if wf.visible_to(caller) => Ok(wf),
        // Someone else's workflow is "not found": ids are not confirmed.
        _ => Err(AuditError::NotFound),
    }
}

/// `POST /workflows`: the workflow's first save.
pub async fn create_workflow<S: WorkflowStore + ?Sized, P: EventPublisher>(
    store: &S,
    publisher: &P,
    caller: &Caller,
    body: NewWorkflowBody,
    ctx: &RequestContext,
) -> Result<Accepted, AuditError> {
    may_create(caller)?;
    let new = NewWorkflow::parse(body, &caller.user)?;
    let now = stamp(ctx.now);
    let id = new.workflow_id.clone().unwrap_or_else(WorkflowId::generate);
    let mut wf = Workflow {
        workflow_id: id.to_string(),
        scheme: new.scheme.as_str().to_owned(),
        title: new.title.clone(),
        owner: caller.user.to_string(),
        approvers: new.approvers.iter().map(ToString::to_string).collect(),
        state: WorkflowState::Draft,
        data: new.data.as_ref().map(canonical::to_string),
        seq: 1,
        announced_seq: 0,
        last_event: None,
        redrives: Vec::new(),
        created_at: now,
        updated_at: now,
    };
    let facts = ActionFacts {
        action: ActionKind::Save,
        from: None,
        caller,
        comment: new.comment.clone(),
        data: new.data.clone(),
    };
    wf.last_event = Some(event_for(&wf, facts, &ctx.correlation_id));

    if !store.create(&wf).await? {
        let Some(mut existing) = store.get(id.as_str()).await? else {
            return Err(AuditError::Conflict("the workflow id was taken and released; try again".into()));
        };
        let same = existing.owner == wf.owner
            && existing.seq == 1
            && existing.scheme == wf.scheme
            && existing.approvers == wf.approvers
            && existing.title == wf.title
            && is_replay(&existing, caller, ActionKind::Save, &new.data, &new.comment);
        if !same {
            return Err(AuditError::Conflict(format!("a workflow with id {id} exists already")));
        }
        announce(store, publisher, &mut existing).await?;
        return Ok(Accepted { workflow: existing, replayed: true });
    }
    info!(workflow_id = %wf.workflow_id, "workflow created");
    announce(store, publisher, &mut wf).await?;
    Ok(Accepted { workflow: wf, replayed: false })
}

/// `POST /workflows/{id}/actions`. The body comes as parsed by the caller: its
/// errors are reported only to someone who may see the workflow (a stranger learns
/// nothing, not even that the body was wrong).
pub async fn act<S: WorkflowStore + ?Sized, P: EventPublisher>(
    store: &S,
    publisher: &P,
    caller: &Caller,
    workflow_id: &str,
    body: Result<ActionBody, InvalidInput>,
    ctx: &RequestContext,
) -> Result<Accepted, AuditError> {
    let mut wf = visible(store, caller, workflow_id).await?;
    let request = ActionRequest::parse(body?)?;
    if !wf.is_announced() {
        // The last request's publish failed: announce it now, and if this is that
        // request again, answer it as it would have been.
        announce(store, publisher, &mut wf).await?;
        if is_replay(&wf, caller, request.action, &request.data, &request.comment) {
            return Ok(Accepted { workflow: wf, replayed: true });
        }
    }
    let transition = decide(&wf, caller, request.action)?;
    let mut next = wf.clone();
    next.state = transition.to;
    next.seq = wf.seq + 1;
    // Strictly after the previous action, so time order is seq order in every index.
    next.updated_at = stamp(ctx.now).max(wf.updated_at + chrono::Duration::microseconds(1));
    if let Some(data) = &request.data {
        next.data = Some(canonical::to_string(data));
    }
    let facts = ActionFacts {
        action: request.action,
        from: Some(transition.from),
        caller,
        comment: request.comment,
        data: request.data,
    };
    next.last_event = Some(event_for(&next, facts, &ctx.correlation_id));
    if !store.apply(&wf, &next).await? {
        return Err(AuditError::Conflict(
            "the workflow changed while this action was made: reload it and try again".into(),
        ));
    }
    info!(workflow_id = %next.workflow_id, seq = next.seq, action = request.action.as_str(), state = next.state.as_str(), "action accepted");
    announce(store, publisher, &mut next).await?;
    Ok(Accepted { workflow: next, replayed: false })
}

/// `GET /workflows/{id}`; also announces a pending action (best effort).
pub async fn view<S: WorkflowStore + ?Sized, P: EventPublisher>(
    store: &S,
    publisher: &P,
    caller: &Caller,
    workflow_id: &str,
) -> Result<Workflow, AuditError> {
    let mut wf = visible(store, caller, workflow_id).await?;
    if let Err(e) = announce(store, publisher, &mut wf).await {
        warn!(error = %chain(&e), "pending action still not announced");
    }
    Ok(wf)
}
