//! An approver's link: looking (changes nothing — mail scanners prefetch links)
//! and deciding (the first valid decision wins, in one conditional write).

use chrono::{DateTime, Duration, Utc};
use kit::publisher::EventPublisher;
use tracing::{info, warn};

use super::announce;
use crate::messages::ApprovalDecided;
use crate::ports::{DecisionStore, DecisionWrite, DecisionWritten, RequestStore};
use crate::rules::{check_link, LinkCheck};
use crate::state::{ApprovalRequest, Decision};
use crate::token::Token;
use crate::ApprovalError;

/// A parsed link: which request, which token, which answer.
#[derive(Debug, Clone)]
pub struct LinkRequest {
    pub request_id: String,
    pub token: Token,
    pub decision: Decision,
}

/// Why a link cannot decide (each has its HTTP status in the API).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No approver of this request holds this token (400).
    UnknownToken,
    /// No such request: never existed, or removed after its retention (410).
    Gone,
    /// Past the request's expiry (410).
    Expired,
    /// The token was revoked (410).
    Revoked,
    /// Already decided (409): how and when; who only if the request allows it.
    Decided { decision: Decision, decided_at: DateTime<Utc>, by: Option<String> },
    /// The write lost to a change the re-read cannot explain (409, try again).
    Conflict,
}

/// The approver who may decide, or why nobody may.
fn verdict(check: LinkCheck) -> Result<usize, Refusal> {
    match check {
        LinkCheck::Valid { approver } => Ok(approver),
        LinkCheck::Unknown => Err(Refusal::UnknownToken),
        LinkCheck::Expired => Err(Refusal::Expired),
        LinkCheck::Revoked => Err(Refusal::Revoked),
        LinkCheck::Decided { decision, decided_at, by } => Err(Refusal::Decided { decision, decided_at, by }),
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum LinkAnswer {
    /// The link may decide: show the confirmation page for this request.
    Confirm(Box<ApprovalRequest>),
    Refused(Refusal),
}

/// What opening a link shows. Reads only.
pub async fn inspect_link<S: RequestStore>(
    store: &S,
    link: &LinkRequest,
    now: DateTime<Utc>,
) -> Result<LinkAnswer, ApprovalError> {
    let Some(request) = store.get(&link.request_id).await? else {
        return Ok(LinkAnswer::Refused(Refusal::Gone));
    };
    Ok(match verdict(check_link(&request, &link.token.hash(), now)) {
        Ok(_) => LinkAnswer::Confirm(Box::new(request)),
        Err(refusal) => LinkAnswer::Refused(refusal),
    })
}

#[derive(Debug, Clone, PartialEq)]
pub enum DecideAnswer {
    /// This link's decision won.
    Decided {
        request: Box<ApprovalRequest>,
        decision: Decision,
        decided_at: DateTime<Utc>,
    },
    Refused(Refusal),
}

/// Decides with a link. The read tells the caller what it may expect, but the
/// decision is made by the conditional write alone: if another decision (or the
/// expiry) got there between the read and the write, the write fails and the
/// re-read says why.
pub async fn decide<S: RequestStore + DecisionStore, P: EventPublisher>(
    store: &S,
    publisher: &P,
    link: &LinkRequest,
    correlation_id: &str,
    now: DateTime<Utc>,
    outbox_delay: Duration,
) -> Result<DecideAnswer, ApprovalError> {
    let hash = link.token.hash();
    let Some(request) = store.get(&link.request_id).await? else {
        return Ok(DecideAnswer::Refused(Refusal::Gone));
    };
    let approver = match verdict(check_link(&request, &hash, now)) {
        Ok(a) => a,
        Err(refusal) => return Ok(DecideAnswer::Refused(refusal)),
    };
    let revoke: Vec<usize> = (0..request.approvers.len()).filter(|i| *i != approver).collect();
    let write = DecisionWrite {
        request_id: &link.request_id,
        approver,
        token_hash: &hash,
        decision: link.decision,
        revoke: &revoke,
        now,
        outbox_due: now + outbox_delay,
    };
    let current = match store.decide(&write).await? {
        DecisionWritten::Won => {
            info!(request_id = %link.request_id, decision = link.decision.as_str(), approver, "decision recorded");
            let event = ApprovalDecided { request_id: link.request_id.clone(), decision: link.decision };
            announce(publisher, &link.request_id, correlation_id, event).await;
            return Ok(DecideAnswer::Decided { request: Box::new(request), decision: link.decision, decided_at: now });
        }
        DecisionWritten::Lost(Some(current)) => Some(*current),
        DecisionWritten::Lost(None) => store.get(&link.request_id).await?,
    };
    // Lost: say why from what is there now.
    let refusal = match current {
        None => Refusal::Gone,
        Some(now_stored) => match verdict(check_link(&now_stored, &hash, now)) {
            Err(refusal) => refusal,
            Ok(_) => {
                warn!(request_id = %link.request_id, "decision write failed its condition for no visible reason");
                Refusal::Conflict
            }
        },
    };
    Ok(DecideAnswer::Refused(refusal))
}
