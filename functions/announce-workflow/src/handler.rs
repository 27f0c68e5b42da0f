//! Translates a `workflow.announce` request into the announce-again use case.

use std::sync::Arc;

use async_trait::async_trait;
use audit::ports::{RedriveLog, WorkflowStore};
use audit::usecases::{announce_again, ANNOUNCE_STEP};
use audit::{AnnounceAgain, AuditError};
use kit::batch::{Outcome, RecordContext, Step};
use kit::publisher::EventPublisher;
use kit::Envelope;

pub const STEP: &str = ANNOUNCE_STEP;

pub struct AnnounceWorkflow<S, P> {
    store: Arc<S>,
    publisher: Arc<P>,
}

impl<S, P> AnnounceWorkflow<S, P> {
    pub fn new(store: Arc<S>, publisher: Arc<P>) -> Self {
        Self { store, publisher }
    }
}

#[async_trait]
impl<S: WorkflowStore + RedriveLog, P: EventPublisher> Step<Envelope<AnnounceAgain>> for AnnounceWorkflow<S, P> {
    type Error = AuditError;

    async fn handle(&self, _ctx: &RecordContext, input: Envelope<AnnounceAgain>) -> Result<Outcome, AuditError> {
        announce_again(self.store.as_ref(), self.publisher.as_ref(), &input.payload).await
    }
}

#[cfg(test)]
mod tests {
    use audit::testing::MemoryWorkflows;
    use aws_lambda_events::sqs::SqsEvent;
    use kit::batch::{BatchRunner, RunnerConfig};
    use kit::decode::EnvelopeBody;
    use kit::testing::{FakeQueues, RecordingPublisher};

    use super::*;

    #[tokio::test]
    async fn the_sample_batch_announces_once_and_dead_letters_an_unknown_workflow() {
        let store = Arc::new(MemoryWorkflows::default());
        let publisher = Arc::new(RecordingPublisher::default());
        store.put(audit::testing::unannounced("7d3c9f0e-2b1a-4c5d-8e6f-a1b2c3d4e5f6", 2));
        let queues = Arc::new(FakeQueues::default());
        let event: SqsEvent =
            serde_json::from_str(include_str!("../../../events/announce-workflow/sqs-batch.json")).unwrap();
        let runner = BatchRunner::new(RunnerConfig::new(STEP), queues.clone());
        let step = Arc::new(AnnounceWorkflow::new(store.clone(), publisher.clone()));
        for _ in 0..2 {
            let out =
                runner.run(event.clone(), None, Arc::new(EnvelopeBody::<AnnounceAgain>::default()), step.clone()).await;
            assert!(out.batch_item_failures.is_empty(), "{out:?}");
        }
        let wf = store.workflow("7d3c9f0e-2b1a-4c5d-8e6f-a1b2c3d4e5f6").unwrap();
        assert_eq!(wf.announced_seq, 2);
        assert_eq!(wf.redrives.len(), 1, "recorded once, redelivery or not");
        assert_eq!(wf.redrives[0].by, "oncall@example");
        let published = publisher.published();
        assert_eq!(published.len(), 1, "the stored event, published once: {published:?}");
        assert_eq!(published[0]["id"], "workflow.action:7d3c9f0e-2b1a-4c5d-8e6f-a1b2c3d4e5f6:2", "the same envelope");
        assert_eq!(queues.dead_letters().len(), 2, "the unknown workflow, on each delivery");
    }
}
