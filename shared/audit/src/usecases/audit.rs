//! The audit step (append a record to its workflow's chain) and the auditors'
//! searches and chain check.

use chrono::{DateTime, Utc};
use kit::batch::Outcome;
use kit::Envelope;
use tracing::info;

use super::parse_limit;
use crate::cursor::AuditCursor;
use crate::error::{AuditError, InvalidInput};
use crate::ids::{Scheme, UserId, WorkflowId};
use crate::messages::WorkflowAction;
use crate::ports::{
    Appended, AuditLog, AuditPage, AuditQuery, AuditReader, RecordSigner, TrustedKeySource, WorkflowStore,
};
use crate::record::{verify_chain, AuditRecord, ChainCheck, GENESIS};
use crate::roles::Role;
use crate::time::{parse, render};
use crate::workflow::{Caller, Refusal};

/// Stores the event's record, linked to its predecessor's hash and signed with
/// the trail's key.
///
/// Record n needs record n-1 (retryable until it is there, so the chain is built
/// in order whatever order the queue delivers in). The put is conditional on the
/// key being free: a redelivery computes the same record and finds it stored
/// (`Duplicate`: the hash decides, as ECDSA signatures differ each time); a
/// different record under the same key is refused, never replaced.
pub async fn append_record<L: AuditLog + ?Sized, S: RecordSigner + ?Sized>(
    log: &L,
    signer: &S,
    event: &Envelope<WorkflowAction>,
    now: DateTime<Utc>,
) -> Result<Outcome, AuditError> {
    let a = &event.payload;
    WorkflowId::parse(&a.workflow_id)?;
    if a.seq == 0 || event.workflow_id != a.workflow_id {
        return Err(InvalidInput::new("the event's workflow id or seq is inconsistent").into());
    }
    let prev_hash = if a.seq == 1 {
        GENESIS.to_owned()
    } else {
        match log.get(&a.workflow_id, a.seq - 1).await? {
            Some(prev) => prev.hash,
            None => return Err(AuditError::PredecessorMissing { workflow_id: a.workflow_id.clone(), seq: a.seq - 1 }),
        }
    };
    let mut record = AuditRecord::from_event(event, &prev_hash, now);
    record.sign(signer.sign(&record.hash).await?);
    match log.append(&record).await? {
        Appended::Stored => {
            info!(workflow_id = %record.workflow_id, seq = record.seq, dataset_id = %record.dataset_id, "audit record appended");
            Ok(Outcome::Done)
        }
        Appended::Exists(existing) if existing.hash == record.hash => Ok(Outcome::Duplicate),
        Appended::Exists(_) => Err(AuditError::SeqConflict { workflow_id: record.workflow_id, seq: record.seq }),
    }
}

/// `GET /audit` query parameters, as received.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct SearchParams {
    pub workflow_id: Option<String>,
    pub actor: Option<String>,
    pub scheme: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub limit: Option<String>,
    pub next: Option<String>,
}

fn auditor(caller: &Caller) -> Result<(), AuditError> {
    if caller.roles.has(Role::Auditor) {
        Ok(())
    } else {
        Err(Refusal::Forbidden("the audit trail is for auditors".into()).into())
    }
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn bound(name: &str, raw: Option<&str>, default: &str) -> Result<String, InvalidInput> {
    match raw {
        None => Ok(default.to_owned()),
        Some(text) => parse(text)
            .map(render)
            .ok_or_else(|| InvalidInput::new(format!("{name} must be an RFC 3339 time, e.g. 2024-06-01T00:00:00Z"))),
    }
}

/// Exactly one of `workflow_id`, `actor`, `scheme` (with optional `from`/`to`).
fn query_of(p: &SearchParams) -> Result<AuditQuery, InvalidInput> {
    let (w, a, s) = (given(&p.workflow_id), given(&p.actor), given(&p.scheme));
    let (from, to) = (given(&p.from), given(&p.to));
    if s.is_none() && (from.is_some() || to.is_some()) {
        return Err(InvalidInput::new("from and to go with scheme"));
    }
    match (w, a, s) {
        (Some(w), None, None) => Ok(AuditQuery::Workflow { workflow_id: WorkflowId::parse(w)?.to_string() }),
        (None, Some(a), None) => Ok(AuditQuery::Actor { actor: UserId::parse(a)?.to_string() }),
        (None, None, Some(s)) => {
            let from = bound("from", from, "0000-01-01T00:00:00.000000Z")?;
            let to = bound("to", to, "9999-12-31T23:59:59.999999Z")?;
            if from > to {
                return Err(InvalidInput::new("from is after to"));
            }
            Ok(AuditQuery::Scheme { scheme: Scheme::parse(s)?.as_str().to_owned(), from, to })
        }
        _ => Err(InvalidInput::new("search by exactly one of workflow_id, actor or scheme (with from and to)")),
    }
}

/// `GET /audit`: a page of records, oldest first, for auditors only.
pub async fn search<R: AuditReader + ?Sized>(
    reader: &R,
    caller: &Caller,
    params: &SearchParams,
) -> Result<(AuditQuery, AuditPage), AuditError> {
    auditor(caller)?;
    let query = query_of(params)?;
    let limit = parse_limit(params.limit.as_deref())?;
    let after = given(&params.next).map(|c| AuditCursor::decode_for(c, &query)).transpose()?;
    let page = reader.search(&query, limit, after).await?;
    Ok((query, page))
}

/// `GET /audit/verify?workflow_id=`: recomputes the workflow's chain, checks
/// every signature with the trail's public key, and counts the records against
/// the workflow's accepted actions.
pub async fn verify<R, W, K>(
    reader: &R,
    workflows: &W,
    keys: &K,
    caller: &Caller,
    workflow_id: Option<&str>,
) -> Result<ChainCheck, AuditError>
where
    R: AuditReader + ?Sized,
    W: WorkflowStore + ?Sized,
    K: TrustedKeySource + ?Sized,
{
    auditor(caller)?;
    let id = WorkflowId::parse(workflow_id.ok_or_else(|| InvalidInput::new("workflow_id is required"))?)?;
    check_trail(reader, workflows, keys, id.as_str()).await
}

/// The chain check itself, for the API and for `ops workflow`.
pub async fn check_trail<R, W, K>(
    reader: &R,
    workflows: &W,
    keys: &K,
    workflow_id: &str,
) -> Result<ChainCheck, AuditError>
where
    R: AuditReader + ?Sized,
    W: WorkflowStore + ?Sized,
    K: TrustedKeySource + ?Sized,
{
    let key = keys.trusted_key().await?;
    let workflow_seq = workflows.get(workflow_id).await?.map(|w| w.seq);
    let records = reader.chain(workflow_id).await?;
    Ok(verify_chain(workflow_id, &records, workflow_seq, &key))
}
