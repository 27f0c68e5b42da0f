//! Translates a `report.requested` event into the create-ticket use case.

use std::sync::Arc;

use async_trait::async_trait;
use kit::batch::{DeadLetterNotice, Outcome, RecordContext, Step};
use kit::clock::Clock;
use kit::publisher::EventPublisher;
use kit::Envelope;
use reports::ports::{ReportStore, TicketDesk};
use reports::usecases::{create_ticket, record_dead_letter};
use reports::{ReportError, ReportRequested};

pub const STEP: &str = "create-zendesk-ticket";

pub struct CreateTicket<S, D, P, C> {
    store: Arc<S>,
    desk: Arc<D>,
    publisher: P,
    clock: C,
}

impl<S, D, P, C> CreateTicket<S, D, P, C> {
    pub fn new(store: Arc<S>, desk: Arc<D>, publisher: P, clock: C) -> Self {
        Self { store, desk, publisher, clock }
    }
}

#[async_trait]
impl<S: ReportStore, D: TicketDesk, P: EventPublisher, C: Clock + 'static> Step<Envelope<ReportRequested>>
    for CreateTicket<S, D, P, C>
{
    type Error = ReportError;

    async fn handle(&self, ctx: &RecordContext, input: Envelope<ReportRequested>) -> Result<Outcome, ReportError> {
        let now = self.clock.now();
        create_ticket(self.store.as_ref(), self.desk.as_ref(), &self.publisher, ctx, input.payload, now).await
    }

    async fn dead_lettered(&self, ctx: &RecordContext, notice: &DeadLetterNotice) -> Result<(), ReportError> {
        record_dead_letter(self.store.as_ref(), ctx, notice, self.clock.now()).await
    }
}

#[cfg(test)]
mod tests {
    use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
    use kit::batch::{BatchRunner, RunnerConfig};
    use kit::clock::FixedClock;
    use kit::decode::EnvelopeBody;
    use kit::testing::{FakeQueues, RecordingPublisher};
    use reports::testing::{FakeDesk, MemoryReportStore, Reply};
    use reports::usecases::mark_reported;
    use reports::{ReportRequest, ReportStatus, ReportSubmission};

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

    /// One delivery of a requested report to the step, whose desk answers `reply`.
    async fn deliver(reply: Reply) -> (Arc<MemoryReportStore>, Arc<FakeDesk>, Arc<FakeQueues>, SqsBatchResponse) {
        let clock = FixedClock::at("2024-06-01T12:00:05Z".parse().unwrap());
        let store = Arc::new(MemoryReportStore::with_events("user-1", &["evt-1"]));
        let publisher = RecordingPublisher::default();
        mark_reported(store.as_ref(), &publisher, submission(), "c-1", clock.now()).await.unwrap();
        let requested = publisher.of_type("report.requested").remove(0);

        let desk = Arc::new(FakeDesk::default());
        desk.replies.lock().unwrap().push(reply);
        let queues = Arc::new(FakeQueues::default());
        let step = CreateTicket::new(store.clone(), desk.clone(), RecordingPublisher::default(), clock);
        let mut msg = SqsMessage::default();
        msg.message_id = Some("m-1".into());
        msg.receipt_handle = Some("rh-1".into());
        msg.event_source_arn = Some("arn:aws:sqs:eu-west-2:123456789012:create-zendesk-ticket".into());
        msg.body = Some(requested.to_string());
        let mut event = SqsEvent::default();
        event.records.push(msg);
        let runner = BatchRunner::new(RunnerConfig::new(STEP), queues.clone());
        let resp = runner.run(event, None, Arc::new(EnvelopeBody::<ReportRequested>::default()), Arc::new(step)).await;
        (store, desk, queues, resp)
    }

    #[tokio::test]
    async fn zendesk_throttling_keeps_the_record_away_for_its_retry_after() {
        let (_, desk, queues, resp) = deliver(Reply::Throttled(600)).await;

        assert_eq!(resp.batch_item_failures.len(), 1, "retried");
        // The backoff alone would say a second or two on the first receive.
        assert_eq!(queues.visibility_changes(), vec![("rh-1".to_owned(), 600)]);
        assert!(queues.dead_letters().is_empty());
        assert_eq!(desk.tickets(), 0);
    }

    #[tokio::test]
    async fn a_zendesk_refusal_dead_letters_the_record_and_shows_the_report_failed() {
        let (store, desk, queues, resp) = deliver(Reply::Status(422)).await;

        assert!(resp.batch_item_failures.is_empty(), "a permanent failure is not retried");
        let letters = queues.dead_letters();
        assert_eq!(letters.len(), 1);
        assert_eq!(letters[0].kind, "provider_rejected");
        assert!(letters[0].reason.contains("422"), "{}", letters[0].reason);
        let id = ReportRequest::parse(submission()).unwrap().report_id;
        let report = store.report(&id).unwrap();
        assert_eq!(report.status, ReportStatus::Failed);
        let failure = report.failure.unwrap();
        assert_eq!((failure.step.as_str(), failure.kind.as_str()), (STEP, "provider_rejected"));
        assert_eq!(desk.tickets(), 0);
    }
}
