//! Redrive: where a stuck workflow stopped, and the message the step before would
//! have published for the step it waits for, rebuilt from the stored state: the
//! same envelope (type, version, deterministic id where the pipeline uses one),
//! the same workflow and correlation ids. Every step is idempotent, so what was
//! done already is not done twice. `ops workflow redrive` sends what this plans.

use approvals::messages::envelope as approval_envelope;
use approvals::{ApprovalDecided, ApprovalRequest, ApprovalRequested, DecisionMade};
use audit::{AnnounceAgain, Workflow};
use chrono::{DateTime, Utc};
use contacts::messages::envelope as contact_envelope;
use contacts::{CheckRecording, Contact, PollContact};
use kit::{Envelope, Message};
use reports::messages::message_id;
use reports::{Report, ReportRequest, ReportRequested, ReportSubmission, TicketCreated};
use serde::Serialize;

use crate::finding::Finding;
use crate::kind::StuckState;
use crate::limits::Limits;
use crate::rules;

/// A message for one step's queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// The queue's logical id in the template.
    pub queue: &'static str,
    /// The step that consumes it.
    pub step: &'static str,
    /// The envelope, as JSON.
    pub body: String,
    pub message_type: String,
    pub correlation_id: String,
    /// For a FIFO queue: the group (the workflow's) and a deduplication id of its own.
    pub fifo: Option<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Nothing is sent: it is finished, waits for a person, or (without `force`) is
    /// still within its state's limit.
    NotStuck(String),
    /// It stopped before the step(s) these messages go to.
    Send { finding: Finding, messages: Vec<Outgoing> },
    /// Stuck, but what its step needs is not stored (said why).
    Cannot(String),
}

/// What a redrive needs besides the item.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    pub now: DateTime<Utc>,
    pub limits: &'a Limits,
    /// Redrive a workflow still within its limit (it waits for the pipeline).
    pub force: bool,
    /// Who asks (recorded on the item).
    pub by: &'a str,
}

/// Stuck now, or (forced) waiting for the pipeline at all: the finding to act on.
fn judge(
    ctx: &Context<'_>,
    rule: impl Fn(&Limits) -> Option<Finding>,
    idle: impl FnOnce() -> String,
) -> Result<Finding, Plan> {
    if let Some(f) = rule(ctx.limits) {
        return Ok(f);
    }
    match rule(&Limits::uniform(chrono::Duration::seconds(-1))) {
        None => Err(Plan::NotStuck(idle())),
        Some(f) if ctx.force => Ok(f),
        Some(f) => Err(Plan::NotStuck(format!(
            "{} since {}, within its limit of {} min: nothing sent (--force sends anyway)",
            f.state.describe(),
            f.since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            ctx.limits.get(f.state).num_minutes()
        ))),
    }
}

fn outgoing<M: Message + Serialize>(
    queue: &'static str,
    step: &'static str,
    env: &Envelope<M>,
) -> Result<Outgoing, Plan> {
    let body = serde_json::to_string(env).map_err(|e| Plan::Cannot(format!("the message does not serialise: {e}")))?;
    Ok(Outgoing {
        queue,
        step,
        body,
        message_type: env.kind.clone(),
        correlation_id: env.correlation_id.clone(),
        fifo: None,
    })
}

fn plan(result: Result<Plan, Plan>) -> Plan {
    result.unwrap_or_else(|p| p)
}

/// A report: the ticket step if it has no ticket, else each effect step not done
/// (or the TxMA step, whose duplicate path runs the fan-in, when all are done).
/// `email`: what the report keeps while open (the confirmation's address).
pub fn report(r: &Report, email: Option<&str>, ctx: &Context<'_>) -> Plan {
    plan((|| {
        let finding = judge(ctx, |l| rules::report(r, ctx.now, l), || format!("{}: finished", r.status.as_str()))?;
        let email = email.ok_or_else(|| {
            Plan::Cannot(
                "the report keeps no email (marked before redrives were possible): replay the frontend's message"
                    .into(),
            )
        })?;
        let request = ReportRequest::parse(ReportSubmission {
            report_id: r.report_id.clone(),
            user_id: r.user_id.clone(),
            email: email.to_owned(),
            event_ids: r.event_ids.clone(),
            reported_at: r.reported_at,
        })
        .map_err(|e| Plan::Cannot(format!("the stored report does not make a request: {e}")))?;
        let correlation = r.correlation_id.clone().unwrap_or_else(|| r.report_id.clone());
        let id = request.report_id;
        let new = |payload| {
            Envelope::new(id.to_string(), correlation.as_str(), payload).with_id(message_id(TicketCreated::TYPE, &id))
        };
        let messages = match r.ticket_id {
            None => {
                let env = Envelope::new(id.to_string(), correlation.as_str(), ReportRequested { report: request })
                    .with_id(message_id(ReportRequested::TYPE, &id));
                vec![outgoing("CreateZendeskTicketQueue", "create-zendesk-ticket", &env)?]
            }
            Some(ticket_id) => {
                let env = new(TicketCreated { report: request, ticket_id });
                let mut out = Vec::new();
                if r.txma_event_id.is_none() || r.notification_id.is_some() {
                    out.push(outgoing("SendTxmaEventQueue", "send-txma-event", &env)?);
                }
                if r.notification_id.is_none() {
                    out.push(outgoing("SendNotifyEmailQueue", "send-notify-email", &env)?);
                }
                out
            }
        };
        Ok(Plan::Send { finding, messages })
    })())
}

/// An approval request: the step it waits for (emails, enqueue), or the FIFO queue
/// for the on-prem processor (not picked up, or EXECUTING with nothing reported:
/// the processor then reports it interrupted, never runs it twice).
pub fn approval(r: &ApprovalRequest, ctx: &Context<'_>) -> Plan {
    plan((|| {
        let finding = judge(
            ctx,
            |l| rules::approval(r, ctx.now, l),
            || format!("{}: nothing for the pipeline to do", r.status.as_str()),
        )?;
        let id = r.request_id.as_str();
        let messages = match finding.state {
            StuckState::ApprovalEmails => {
                let env = approval_envelope(id, id, ApprovalRequested { request_id: id.to_owned() });
                vec![outgoing("SendApprovalEmailsQueue", "send-approval-emails", &env)?]
            }
            StuckState::ApprovalEnqueue | StuckState::ApprovalPickup | StuckState::ApprovalExecuting => {
                let decision = r.decision.as_ref().ok_or_else(|| Plan::Cannot("no decision is stored".into()))?;
                if finding.state == StuckState::ApprovalEnqueue {
                    let payload = ApprovalDecided { request_id: id.to_owned(), decision: decision.decision };
                    vec![outgoing("EnqueueDecisionQueue", "enqueue-decision", &approval_envelope(id, id, payload))?]
                } else {
                    let payload = DecisionMade {
                        request_id: id.to_owned(),
                        decision: decision.decision,
                        decided_at: decision.decided_at,
                    };
                    let mut m =
                        outgoing("ApprovalDecisionsQueue", "action-processor", &approval_envelope(id, id, payload))?;
                    // The request's own group (its order kept); a deduplication id of
                    // this redrive's, or SQS would drop it as the first send's twin.
                    m.fifo = Some((id.to_owned(), format!("{id}:redrive:{}", ctx.now.timestamp_millis())));
                    vec![m]
                }
            }
            other => return Err(Plan::Cannot(format!("{other} is not an approval state"))),
        };
        Ok(Plan::Send { finding, messages })
    })())
}

/// A contact: a poll (the call not ended as far as we know) or a recording check.
pub fn contact(c: &Contact, ctx: &Context<'_>) -> Plan {
    plan((|| {
        let finding = judge(ctx, |l| rules::contact(c, ctx.now, l), || format!("{}: no work left", c.state.as_str()))?;
        let slot = format!("redrive-{}", ctx.now.timestamp_millis());
        let id = &c.contact_id;
        let messages = match finding.state {
            StuckState::ContactCall => {
                let env = contact_envelope(id, &slot, PollContact { contact_id: id.to_string() });
                vec![outgoing("PollContactQueue", "poll-contact", &env)?]
            }
            _ => {
                let env = contact_envelope(id, &slot, CheckRecording { contact_id: id.to_string() });
                vec![outgoing("CheckRecordingQueue", "check-recording", &env)?]
            }
        };
        Ok(Plan::Send { finding, messages })
    })())
}

/// An audited workflow: a request to announce-workflow (the only writer besides
/// the API), which publishes the stored event and records the redrive.
pub fn workflow(w: &Workflow, ctx: &Context<'_>) -> Plan {
    plan((|| {
        let finding = judge(ctx, |l| rules::workflow(w, ctx.now, l), || format!("action {} announced", w.seq))?;
        let correlation =
            w.last_event.as_ref().map(|e| e.correlation_id.clone()).unwrap_or_else(|| w.workflow_id.clone());
        let payload = AnnounceAgain {
            workflow_id: w.workflow_id.clone(),
            seq: w.seq,
            requested_by: ctx.by.to_owned(),
            requested_at: ctx.now,
        };
        let env = Envelope::new(w.workflow_id.clone(), correlation, payload).with_id(format!(
            "{}:{}:{}:redrive-{}",
            AnnounceAgain::TYPE,
            w.workflow_id,
            w.seq,
            ctx.now.timestamp_millis()
        ));
        Ok(Plan::Send { finding, messages: vec![outgoing("AnnounceWorkflowQueue", "announce-workflow", &env)?] })
    })())
}
