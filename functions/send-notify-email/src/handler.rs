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

#[cfg(test)]
mod tests {
    use aws_lambda_events::sqs::{SqsEvent, SqsMessage};
    use kit::batch::{BatchRunner, RunnerConfig};
    use kit::clock::FixedClock;
    use kit::decode::EnvelopeBody;
    use kit::testing::{FakeQueues, RecordingPublisher};
    use reports::testing::{FakeDesk, FakeMailer, MemoryReportStore, Reply};
    use reports::usecases::{create_ticket, mark_reported};
    use reports::{ReportRequested, ReportSubmission};

    use super::*;

    fn submission() -> ReportSubmission {
        ReportSubmission {
            report_id: "8d0c7a4e-3b1f-4f5e-9a61-0c2b8e7d9f10".into(),
            user_id: "user-1".into(),
            email: "someone@example.gov.uk".into(),
            event_ids: vec!["evt-1".into()],
            reported_at: "2024-06-01T12:00:00Z".parse().unwrap(),
        }
    }

    fn context() -> RecordContext {
        RecordContext {
            step: Arc::from("test"),
            message_id: "m-0".into(),
            correlation_id: "c-1".into(),
            workflow_id: None,
            receive_count: 1,
            first_received_at: None,
            group_id: None,
            deadline: None,
        }
    }

    #[tokio::test]
    async fn notify_throttling_keeps_the_record_away_for_its_retry_after() {
        let clock = FixedClock::at("2024-06-01T12:00:05Z".parse().unwrap());
        let store = Arc::new(MemoryReportStore::with_events("user-1", &["evt-1"]));
        let publisher = RecordingPublisher::default();
        mark_reported(store.as_ref(), &publisher, submission(), "c-1", clock.now()).await.unwrap();
        let requested: Envelope<ReportRequested> =
            serde_json::from_value(publisher.of_type("report.requested").remove(0)).unwrap();
        create_ticket(store.as_ref(), &FakeDesk::default(), &publisher, &context(), requested.payload, clock.now())
            .await
            .unwrap();
        let created = publisher.of_type("report.ticket-created").remove(0);

        let mailer = Arc::new(FakeMailer::default());
        mailer.replies.lock().unwrap().push(Reply::Throttled(900));
        let queues = Arc::new(FakeQueues::default());
        let step = SendEmail::new(store.clone(), mailer.clone(), "template-1".into(), clock);
        let mut msg = SqsMessage::default();
        msg.message_id = Some("m-1".into());
        msg.receipt_handle = Some("rh-1".into());
        msg.event_source_arn = Some("arn:aws:sqs:eu-west-2:123456789012:send-notify-email".into());
        msg.body = Some(created.to_string());
        let mut event = SqsEvent::default();
        event.records.push(msg);
        let runner = BatchRunner::new(RunnerConfig::new(STEP), queues.clone());
        let resp = runner.run(event, None, Arc::new(EnvelopeBody::<TicketCreated>::default()), Arc::new(step)).await;

        assert_eq!(resp.batch_item_failures.len(), 1, "retried");
        // The backoff alone would say a second or two on the first receive.
        assert_eq!(queues.visibility_changes(), vec![("rh-1".to_owned(), 900)]);
        assert!(mailer.sent().is_empty());
    }
}
