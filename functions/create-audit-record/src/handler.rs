//! Translates a `workflow.action` event into the append-record use case.

use std::sync::Arc;

use async_trait::async_trait;
use audit::ports::{AuditLog, RecordSigner};
use audit::usecases::append_record;
use audit::{AuditError, WorkflowAction};
use kit::batch::{Outcome, RecordContext, Step};
use kit::clock::Clock;
use kit::Envelope;

pub const STEP: &str = "create-audit-record";

pub struct CreateAuditRecord<L, S, C> {
    log: Arc<L>,
    signer: Arc<S>,
    clock: C,
}

impl<L, S, C> CreateAuditRecord<L, S, C> {
    pub fn new(log: Arc<L>, signer: Arc<S>, clock: C) -> Self {
        Self { log, signer, clock }
    }
}

#[async_trait]
impl<L: AuditLog, S: RecordSigner, C: Clock + 'static> Step<Envelope<WorkflowAction>> for CreateAuditRecord<L, S, C> {
    type Error = AuditError;

    async fn handle(&self, _ctx: &RecordContext, input: Envelope<WorkflowAction>) -> Result<Outcome, AuditError> {
        append_record(self.log.as_ref(), self.signer.as_ref(), &input, self.clock.now()).await
    }
}

#[cfg(test)]
mod tests {
    use audit::record::verify_chain;
    use audit::signing::test_key;
    use audit::testing::{MemoryAudit, TestSigningKey};
    use aws_lambda_events::sqs::SqsEvent;
    use kit::batch::{BatchRunner, RunnerConfig};
    use kit::clock::FixedClock;
    use kit::decode::EnvelopeBody;
    use kit::testing::FakeQueues;

    use super::*;

    fn run_fixture(
        log: Arc<MemoryAudit>,
        queues: Arc<FakeQueues>,
    ) -> impl std::future::Future<Output = aws_lambda_events::sqs::SqsBatchResponse> {
        let event: SqsEvent =
            serde_json::from_str(include_str!("../../../events/create-audit-record/sqs-batch.json")).unwrap();
        let step = CreateAuditRecord::new(
            log,
            Arc::new(TestSigningKey::default()),
            FixedClock::at("2024-06-01T12:00:10Z".parse().unwrap()),
        );
        let runner = BatchRunner::new(RunnerConfig::new(STEP), queues);
        async move { runner.run(event, None, Arc::new(EnvelopeBody::<WorkflowAction>::default()), Arc::new(step)).await }
    }

    #[tokio::test]
    async fn the_sample_batch_chains_both_actions_and_dead_letters_the_poison_message() {
        let log = Arc::new(MemoryAudit::default());
        let queues = Arc::new(FakeQueues::default());
        // Records run concurrently: seq 2 may find seq 1 missing and come back once.
        let first = run_fixture(log.clone(), queues.clone()).await;
        assert!(first.batch_item_failures.len() <= 1, "{first:?}");
        let second = run_fixture(log.clone(), queues.clone()).await;
        assert!(second.batch_item_failures.is_empty(), "{second:?}");

        let records = log.all();
        assert_eq!(records.len(), 2, "redelivery adds nothing");
        let check = verify_chain("7d3c9f0e-2b1a-4c5d-8e6f-a1b2c3d4e5f6", &records, Some(2), &test_key::trusted());
        assert!(check.valid, "{check:?}");
        assert_eq!(records[1].action, "request");
        let letters = queues.dead_letters();
        assert_eq!(letters.len(), 2, "the poison message, on each delivery");
        assert!(letters.iter().all(|l| l.kind == "wrong_type"));
    }
}
