//! Translates a `report.ticket-created` event into the send-email use case.

use std::sync::Arc;

use async_trait::async_trait;
use kit::batch::{DeadLetterNotice, Outcome, RecordContext, Step};
use kit::clock::Clock;
use kit::Envelope;
use reports::ports::{Mailer, ReportStore};
use reports::usecases::{record_dead_letter, send_email, EffectContext};
use reports::{ReportError, TicketCreated};

pub const STEP: &str = "send-notify-email";

pub struct SendEmail<S, M, C> {
    store: Arc<S>,
    mailer: Arc<M>,
    template_id: String,
    clock: C,
}

impl<S, M, C> SendEmail<S, M, C> {
    pub fn new(store: Arc<S>, mailer: Arc<M>, template_id: String, clock: C) -> Self {
        Self { store, mailer, template_id, clock }
    }
}

#[async_trait]
impl<S: ReportStore, M: Mailer, C: Clock + 'static> Step<Envelope<TicketCreated>> for SendEmail<S, M, C> {
    type Error = ReportError;

    async fn handle(&self, ctx: &RecordContext, input: Envelope<TicketCreated>) -> Result<Outcome, ReportError> {
        let effect = EffectContext { record: ctx, now: self.clock.now() };
        send_email(self.store.as_ref(), self.mailer.as_ref(), &self.template_id, input.payload, effect).await
    }

    async fn dead_lettered(&self, ctx: &RecordContext, notice: &DeadLetterNotice) -> Result<(), ReportError> {
        record_dead_letter(self.store.as_ref(), ctx, notice, self.clock.now()).await
    }
}
