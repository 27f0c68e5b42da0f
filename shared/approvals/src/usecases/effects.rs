//! The three steps after the API: the approval emails, the FIFO decision, and the
//! notice to the other approvers. Each is idempotent under redelivery.

use chrono::{DateTime, Duration, Utc};
use kit::batch::{Outcome, RecordContext};
use kit::error::chain;
use tracing::{error, info, warn};

use crate::email::{approval_email, decided_email};
use crate::messages::{envelope, ApprovalDecided, ApprovalRequested, DecisionMade};
use crate::ports::{DecisionQueue, Effect, EffectStore, Mailer, Outbox, RequestStore};
use crate::request::RequestId;
use crate::state::{ApprovalRequest, OutboxEvent, Status};
use crate::token::Token;
use crate::ApprovalError;

/// Claims last until the invocation's deadline; without one (tests), this long.
const DEFAULT_CLAIM: Duration = Duration::seconds(60);

/// What the steps need besides their ports.
pub struct EffectContext<'a> {
    pub record: &'a RecordContext,
    pub now: DateTime<Utc>,
}

impl EffectContext<'_> {
    fn claim_until(&self) -> DateTime<Utc> {
        self.record.deadline.filter(|d| *d > self.now).unwrap_or(self.now + DEFAULT_CLAIM)
    }
}

async fn read<S: RequestStore>(store: &S, request_id: &str) -> Result<ApprovalRequest, ApprovalError> {
    store.get(request_id).await?.ok_or_else(|| ApprovalError::NotFound { request_id: request_id.to_owned() })
}

/// Runs `work` under the effect's claim; `done` says whether the effect finished
/// (Ok(true)) or stopped early for a good reason (Ok(false): claim released).
async fn claimed<S, F, Fut>(
    store: &S,
    request_id: &str,
    effect: Effect,
    ctx: &EffectContext<'_>,
    work: F,
) -> Result<Outcome, ApprovalError>
where
    S: RequestStore + EffectStore,
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<bool, ApprovalError>>,
{
    if !store.claim(request_id, effect, ctx.now, ctx.claim_until()).await? {
        // Finished by a twin, or a twin is at it now (it finishes or its claim expires).
        let req = read(store, request_id).await?;
        let finished = match effect {
            Effect::Emails => req.emails_sent_at.is_some(),
            Effect::Notify => req.approvers_notified_at.is_some(),
        };
        return if finished {
            Ok(Outcome::Duplicate)
        } else {
            Err(ApprovalError::ClaimBusy { effect: effect.as_str() })
        };
    }
    match work().await {
        Ok(true) => {
            store.finish(request_id, effect, ctx.now).await?;
            Ok(Outcome::Done)
        }
        Ok(false) => {
            store.release(request_id, effect).await?;
            Ok(Outcome::Done)
        }
        Err(e) => {
            if let Err(release) = store.release(request_id, effect).await {
                // The claim expires by itself at the deadline.
                warn!(error = %chain(&release), "could not release the claim");
            }
            Err(e)
        }
    }
}

/// `send-approval-emails`: mints each approver's token, stores its hash, emails the
/// links. A token is minted only for an approver not yet emailed, and only while
/// the request is PENDING and unexpired; so a redelivery after a crash between
/// minting and sending replaces the unsent token (its email never went), and a
/// crash between sending and recording sends that approver a second email whose
/// token replaces the first (the first link then stops working).
///
/// An address SES refuses for good (see [`crate::ses::refuses_recipient`]) marks
/// that approver undeliverable and the loop goes on to the next: one bad address
/// never keeps the links from the others, and is never tried again. Any other
/// failure (SES throttling or down) stops the loop and fails the record, which is
/// retried for the approvers not yet settled. When SES refused every approver the
/// request ends UNDELIVERABLE: nobody could decide it.
pub async fn send_approval_emails<S, M>(
    store: &S,
    mailer: &M,
    link_base_url: &str,
    event: ApprovalRequested,
    ctx: EffectContext<'_>,
) -> Result<Outcome, ApprovalError>
where
    S: RequestStore + EffectStore + Outbox,
    M: Mailer,
{
    // The id is checked before it keys a read: a bad one is refused for good, unquoted.
    let id = RequestId::checked(&event.request_id)?;
    let id = id.as_str();
    let req = read(store, id).await?;
    if req.emails_sent_at.is_some() || req.status != Status::Pending || req.is_expired(ctx.now) {
        store.clear(id, OutboxEvent::Requested).await?;
        info!(request_id = id, status = req.status.as_str(), "no approval emails to send");
        return Ok(Outcome::Duplicate);
    }
    let outcome = claimed(store, id, Effect::Emails, &ctx, || async {
        // Read again under the claim: a twin may have settled approvers since.
        let req = read(store, id).await?;
        let mut undeliverable = req.approvers.iter().filter(|a| a.undeliverable_at.is_some()).count();
        for (i, approver) in req.approvers.iter().enumerate() {
            if approver.email_settled() {
                continue;
            }
            let token = Token::generate()?;
            if !store.set_token(id, i, &token.hash(), ctx.now).await? {
                // Decided or expired meanwhile: the remaining links would be dead on arrival.
                info!(request_id = id, "request no longer pending; remaining approval emails not sent");
                return Ok(false);
            }
            match mailer.send(&approval_email(&req, i, &token, link_base_url)).await {
                Ok(()) => store.mark_emailed(id, i, ctx.now).await?,
                Err(e) => {
                    let Some(code) = e.refusal_code() else {
                        return Err(e.into());
                    };
                    // The position and SES's code only: never the address.
                    warn!(request_id = id, approver = i, code, "SES refused this approver's address; undeliverable");
                    store.mark_undeliverable(id, i, code, ctx.now).await?;
                    undeliverable += 1;
                }
            }
        }
        if undeliverable == req.approvers.len() {
            if store.end_undeliverable(id, ctx.now).await? {
                error!(request_id = id, approvers = undeliverable, "no approver can be emailed: request UNDELIVERABLE");
                crate::metrics::request_undeliverable();
            }
            // Its outbox entry and claim went in that write; nothing is left to finish.
            return Ok(false);
        }
        info!(request_id = id, approvers = req.approvers.len(), undeliverable, "approval emails sent");
        Ok(true)
    })
    .await?;
    store.clear(id, OutboxEvent::Requested).await?;
    Ok(outcome)
}

/// `notify-approvers`: tells every approver who got a link, except the one who
/// decided, what was decided. Marked per approver, so a redelivery sends only
/// what is missing (a crash between a send and its mark repeats that one email).
/// An address SES refuses for good is logged and passed over, as in
/// [`send_approval_emails`]: the others are still told.
pub async fn notify_approvers<S, M>(
    store: &S,
    mailer: &M,
    event: ApprovalDecided,
    ctx: EffectContext<'_>,
) -> Result<Outcome, ApprovalError>
where
    S: RequestStore + EffectStore,
    M: Mailer,
{
    // The id is checked before it keys a read: a bad one is refused for good, unquoted.
    let id = RequestId::checked(&event.request_id)?;
    let id = id.as_str();
    let req = read(store, id).await?;
    let Some(decision) = req.decision.clone() else {
        return Err(ApprovalError::NotDecided { request_id: id.to_owned() });
    };
    if req.approvers_notified_at.is_some() {
        return Ok(Outcome::Duplicate);
    }
    claimed(store, id, Effect::Notify, &ctx, || async {
        let (mut told, mut refused) = (0, 0);
        for (i, approver) in req.approvers.iter().enumerate() {
            if i == decision.decided_by || approver.emailed_at.is_none() || approver.notified_at.is_some() {
                continue;
            }
            let Some(email) = decided_email(&req, i) else { continue };
            match mailer.send(&email).await {
                Ok(()) => {
                    store.mark_notified(id, i, ctx.now).await?;
                    told += 1;
                }
                Err(e) => {
                    // An address SES now refuses for good (suppressed since its
                    // link went) fails the same way on every retry: it must not
                    // keep the notice from the approvers after it, nor dead-letter
                    // a decision that stands. Anything else fails the record.
                    let Some(code) = e.refusal_code() else {
                        return Err(e.into());
                    };
                    // The position and SES's code only: never the address.
                    warn!(request_id = id, approver = i, code, "SES refused this approver's address; not notified");
                    refused += 1;
                }
            }
        }
        info!(request_id = id, told, refused, "other approvers notified");
        Ok(true)
    })
    .await
}

/// `enqueue-decision`: puts the decision on the FIFO queue once. Deduplication id =
/// request id makes SQS drop a second send within 5 minutes (twins, a crash before
/// the record); `decision_enqueued_at` stops any send after that. The one gap left
/// — a crash after the send whose retry comes more than 5 minutes later — makes a
/// second message, which the processor's conditional EXECUTING write turns into a
/// no-op.
pub async fn enqueue_decision<S, Q>(
    store: &S,
    queue: &Q,
    event: ApprovalDecided,
    correlation_id: &str,
    now: DateTime<Utc>,
) -> Result<Outcome, ApprovalError>
where
    S: RequestStore + EffectStore + Outbox,
    Q: DecisionQueue,
{
    // The id is checked before it keys a read: a bad one is refused for good, unquoted.
    let id = RequestId::checked(&event.request_id)?;
    let id = id.as_str();
    let req = read(store, id).await?;
    let Some(decision) = req.decision else {
        return Err(ApprovalError::NotDecided { request_id: id.to_owned() });
    };
    if req.decision_enqueued_at.is_some() {
        store.clear(id, OutboxEvent::Decided).await?;
        return Ok(Outcome::Duplicate);
    }
    let message = envelope(
        id,
        correlation_id,
        DecisionMade { request_id: id.to_owned(), decision: decision.decision, decided_at: decision.decided_at },
    );
    queue.send(&message).await?;
    // Also drops the outbox entry: the announcement is confirmed.
    if !store.mark_enqueued(id, now).await? {
        info!(request_id = id, "a twin recorded the enqueue first; SQS deduplicated the send");
    }
    info!(request_id = id, decision = decision.decision.as_str(), "decision on the FIFO queue");
    Ok(Outcome::Done)
}
