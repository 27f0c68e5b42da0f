//! Steps 4-5 (TxMA) and 6-7 (Notify), and the fan-in both end with.
//!
//! Each effect runs under a claim on the report item, so twins never act at once;
//! after an attempt whose outcome is unknown, the email step asks Notify for the
//! email by reference before sending, and the TxMA step resends the identical
//! event (TxMA dedupes on its id).

use std::collections::BTreeMap;
use std::future::Future;

use chrono::{DateTime, Duration, Utc};
use kit::batch::{Outcome, RecordContext};
use kit::error::chain;
use tracing::{info, warn};

use crate::clients::http::{Certainty, HttpError};
use crate::clients::notify::EmailRequest;
use crate::messages::TicketCreated;
use crate::ports::{AuditSink, ClaimOutcome, Mailer, ReportStore};
use crate::report::Effect;
use crate::txma::{event_id, TxmaEvent};
use crate::ReportError;

/// Claims last until the invocation's deadline; without one (tests), this long.
const DEFAULT_CLAIM: Duration = Duration::seconds(60);

/// What the effect steps need besides their ports.
pub struct EffectContext<'a> {
    pub record: &'a RecordContext,
    pub now: DateTime<Utc>,
}

impl EffectContext<'_> {
    fn claim_until(&self) -> DateTime<Utc> {
        self.record.deadline.filter(|d| *d > self.now).unwrap_or(self.now + DEFAULT_CLAIM)
    }
}

/// Claim, perform, record, fan in. `perform` gets whether an earlier attempt's
/// outcome is unknown and returns the effect's id, or the error and whether the
/// effect may have happened anyway.
async fn run_effect<S, F, Fut>(
    store: &S,
    effect: Effect,
    event: &TicketCreated,
    ctx: &EffectContext<'_>,
    perform: F,
) -> Result<Outcome, ReportError>
where
    S: ReportStore,
    F: FnOnce(bool) -> Fut,
    Fut: Future<Output = Result<String, (ReportError, Certainty)>>,
{
    let report_id = event.report.report_id;
    let after_uncertain = match store.claim(&report_id, effect, ctx.now, ctx.claim_until()).await? {
        ClaimOutcome::Missing => return Err(ReportError::NotFound { report_id: report_id.to_string() }),
        ClaimOutcome::Busy => return Err(ReportError::ClaimBusy { effect: effect.as_str() }),
        ClaimOutcome::AlreadyDone(report) => {
            // The twin that recorded it may have died before the fan-in.
            if report.ready_to_complete() && store.complete(&report_id, ctx.now).await? {
                info!(report_id = %report_id, "report completed");
            }
            return Ok(Outcome::Duplicate);
        }
        ClaimOutcome::Claimed { after_uncertain } => after_uncertain,
    };

    let id = match perform(after_uncertain).await {
        Ok(id) => id,
        Err((err, certainty)) => {
            // Still unknown if it was before this attempt, whatever this attempt learnt.
            let uncertain = after_uncertain || certainty == Certainty::Unknown;
            if let Err(e) = store.release(&report_id, effect, uncertain).await {
                // The claim then expires by itself and the retry treats it as unknown.
                warn!(error = %chain(&e), "could not release the claim");
            }
            return Err(err);
        }
    };

    let report = match store.record_effect(&report_id, effect, &id, ctx.now).await {
        Ok(report) => report,
        Err(e) => {
            if let Err(release) = store.release(&report_id, effect, true).await {
                // The claim then expires by itself and the retry treats it as unknown.
                warn!(error = %chain(&release), "could not release the claim");
            }
            return Err(e.into());
        }
    };
    info!(report_id = %report_id, effect = effect.as_str(), "effect recorded");
    if report.ready_to_complete() && store.complete(&report_id, ctx.now).await? {
        info!(report_id = %report_id, "report completed");
    }
    Ok(Outcome::Done)
}

fn provider(err: HttpError) -> (ReportError, Certainty) {
    let certainty = err.certainty();
    (ReportError::Provider(err), certainty)
}

pub async fn send_txma<S: ReportStore, A: AuditSink>(
    store: &S,
    sink: &A,
    component_id: &str,
    event: TicketCreated,
    ctx: EffectContext<'_>,
) -> Result<Outcome, ReportError> {
    let txma = TxmaEvent::for_report(&event.report, event.ticket_id, component_id);
    run_effect(store, Effect::Txma, &event, &ctx, |_after_uncertain| async {
        // Same event, same id, whether or not an earlier attempt got it through.
        sink.send(&txma).await.map_err(|e| (ReportError::Txma(e), Certainty::Unknown))?;
        Ok(event_id(&event.report.report_id))
    })
    .await
}

pub async fn send_email<S: ReportStore, M: Mailer>(
    store: &S,
    mailer: &M,
    template_id: &str,
    event: TicketCreated,
    ctx: EffectContext<'_>,
) -> Result<Outcome, ReportError> {
    let reference = event.report.report_id.to_string();
    let email = EmailRequest {
        email_address: event.report.email.clone(),
        template_id: template_id.to_owned(),
        personalisation: BTreeMap::from([("ticket_id".to_owned(), event.ticket_id.to_string())]),
        reference: reference.clone(),
    };
    run_effect(store, Effect::Email, &event, &ctx, |after_uncertain| async move {
        if after_uncertain {
            if let Some(id) = mailer.find(&reference).await.map_err(provider)? {
                info!(report_id = %reference, "found the email an earlier attempt sent");
                return Ok(id);
            }
        }
        mailer.send(&email).await.map_err(provider)
    })
    .await
}
