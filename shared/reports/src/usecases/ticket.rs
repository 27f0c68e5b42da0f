//! Steps 2-3: the Zendesk ticket, created once per report whatever the retries.
//!
//! Three guards, cheapest first: the report already names its ticket (a
//! redelivery after success); on a redelivery, Zendesk is asked for a ticket with
//! the report as `external_id` (covers a crash after creation, beyond Zendesk's
//! idempotency window); and the create itself carries `Idempotency-Key: report_id`
//! (covers twins running at once).

use chrono::{DateTime, Utc};
use kit::batch::{Outcome, RecordContext};
use kit::publisher::EventPublisher;
use tracing::{info, warn};

use super::publish;
use crate::clients::zendesk::NewTicket;
use crate::messages::{ReportRequested, TicketCreated};
use crate::ports::{ReportStore, TicketDesk, TicketRecorded};
use crate::report::ReportStatus;
use crate::ReportError;

pub async fn create_ticket<S: ReportStore, D: TicketDesk, P: EventPublisher>(
    store: &S,
    desk: &D,
    publisher: &P,
    ctx: &RecordContext,
    event: ReportRequested,
    now: DateTime<Utc>,
) -> Result<Outcome, ReportError> {
    let req = event.report;
    let report =
        store.get(&req.report_id).await?.ok_or(ReportError::NotFound { report_id: req.report_id.to_string() })?;
    if report.status == ReportStatus::Rejected {
        warn!(report_id = %req.report_id, "report was rejected; no ticket");
        return Ok(Outcome::Duplicate);
    }
    if let Some(ticket_id) = report.ticket_id {
        publish(publisher, req.report_id, &ctx.correlation_id, TicketCreated { report: req, ticket_id }).await?;
        return Ok(Outcome::Duplicate);
    }

    let ticket = NewTicket::for_report(&req);
    let earlier =
        if ctx.receive_count > 1 || report.failure.is_some() { desk.find(&ticket.external_id).await? } else { None };
    let ticket_id = match earlier {
        Some(id) => {
            info!(report_id = %req.report_id, ticket_id = id, "found the ticket an earlier attempt created");
            id
        }
        None => desk.create(&ticket).await?,
    };

    match store.record_ticket(&req, ticket_id, now).await? {
        TicketRecorded::Recorded => {}
        TicketRecorded::OtherTicket(recorded) => {
            return Err(ReportError::TicketMismatch {
                report_id: req.report_id.to_string(),
                recorded,
                found: ticket_id,
            })
        }
    }
    info!(report_id = %req.report_id, ticket_id, "ticket created");
    publish(publisher, req.report_id, &ctx.correlation_id, TicketCreated { report: req, ticket_id }).await?;
    Ok(Outcome::Done)
}
