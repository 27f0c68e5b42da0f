//! Translates a frontend submission into the mark-reported use case.

use std::sync::Arc;

use async_trait::async_trait;
use kit::batch::{Outcome, RecordContext, Step};
use kit::clock::Clock;
use kit::publisher::EventPublisher;
use reports::ports::ReportStore;
use reports::usecases::mark_reported;
use reports::{ReportError, ReportSubmission};

pub const STEP: &str = "mark-reported";

pub struct MarkReported<S, P, C> {
    store: Arc<S>,
    publisher: P,
    clock: C,
}

impl<S, P, C> MarkReported<S, P, C> {
    pub fn new(store: Arc<S>, publisher: P, clock: C) -> Self {
        Self { store, publisher, clock }
    }
}

#[async_trait]
impl<S: ReportStore, P: EventPublisher, C: Clock + 'static> Step<ReportSubmission> for MarkReported<S, P, C> {
    type Error = ReportError;

    async fn handle(&self, ctx: &RecordContext, input: ReportSubmission) -> Result<Outcome, ReportError> {
        let marked =
            mark_reported(self.store.as_ref(), &self.publisher, input, &ctx.correlation_id, self.clock.now()).await?;
        Ok(marked.into())
    }
}

#[cfg(test)]
mod tests {
    use aws_lambda_events::sqs::SqsEvent;
    use kit::batch::{BatchRunner, RunnerConfig};
    use kit::clock::FixedClock;
    use kit::decode::JsonBody;
    use kit::testing::{FakeQueues, RecordingPublisher};
    use reports::testing::MemoryReportStore;

    use super::*;

    #[tokio::test]
    async fn the_sample_batch_marks_one_report_and_dead_letters_the_invalid_one() {
        let event: SqsEvent =
            serde_json::from_str(include_str!("../../../events/mark-reported/sqs-batch.json")).unwrap();
        let store = Arc::new(MemoryReportStore::with_events("user-1", &["evt-1", "evt-2"]));
        let publisher = Arc::new(RecordingPublisher::default());
        let queues = Arc::new(FakeQueues::default());
        let step = MarkReported::new(
            store.clone(),
            publisher.clone(),
            FixedClock::at("2024-06-01T12:00:05Z".parse().unwrap()),
        );
        let runner = BatchRunner::new(RunnerConfig::new(STEP), queues.clone());
        let resp = runner.run(event, None, Arc::new(JsonBody::<ReportSubmission>::default()), Arc::new(step)).await;

        assert!(resp.batch_item_failures.is_empty());
        assert_eq!(publisher.of_type("report.requested").len(), 1);
        let letters = queues.dead_letters();
        assert_eq!(letters.len(), 1);
        assert_eq!(letters[0].kind, "invalid_report");
        assert!(!letters[0].reason.contains('@'), "no email in the reason: {}", letters[0].reason);
    }
}
