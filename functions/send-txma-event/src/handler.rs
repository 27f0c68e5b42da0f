//! Translates a `report.ticket-created` event into the send-txma use case.

use std::sync::Arc;

use async_trait::async_trait;
use kit::batch::{DeadLetterNotice, Outcome, RecordContext, Step};
use kit::clock::Clock;
use kit::Envelope;
use reports::ports::{AuditSink, ReportStore};
use reports::usecases::{record_dead_letter, send_txma, EffectContext};
use reports::{ReportError, TicketCreated};

pub const STEP: &str = "send-txma-event";

pub struct SendTxma<S, A, C> {
    store: Arc<S>,
    sink: Arc<A>,
    component_id: String,
    clock: C,
}

impl<S, A, C> SendTxma<S, A, C> {
    pub fn new(store: Arc<S>, sink: Arc<A>, component_id: String, clock: C) -> Self {
        Self { store, sink, component_id, clock }
    }
}

#[async_trait]
impl<S: ReportStore, A: AuditSink, C: Clock + 'static> Step<Envelope<TicketCreated>> for SendTxma<S, A, C> {
    type Error = ReportError;

    async fn handle(&self, ctx: &RecordContext, input: Envelope<TicketCreated>) -> Result<Outcome, ReportError> {
        let effect = EffectContext { record: ctx, now: self.clock.now() };
        send_txma(self.store.as_ref(), self.sink.as_ref(), &self.component_id, input.payload, effect).await
    }

    async fn dead_lettered(&self, ctx: &RecordContext, notice: &DeadLetterNotice) -> Result<(), ReportError> {
        record_dead_letter(self.store.as_ref(), ctx, notice, self.clock.now()).await
    }
}
