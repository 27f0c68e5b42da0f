//! Translates an `approval.decided` event into the enqueue use case.

use std::sync::Arc;

use approvals::ports::{DecisionQueue, EffectStore, Outbox, RequestStore};
use approvals::usecases::enqueue_decision;
use approvals::{ApprovalDecided, ApprovalError};
use async_trait::async_trait;
use kit::batch::{Outcome, RecordContext, Step};
use kit::clock::Clock;
use kit::Envelope;

pub const STEP: &str = "enqueue-decision";

pub struct EnqueueDecision<S, Q, C> {
    store: Arc<S>,
    queue: Arc<Q>,
    clock: C,
}

impl<S, Q, C> EnqueueDecision<S, Q, C> {
    pub fn new(store: Arc<S>, queue: Arc<Q>, clock: C) -> Self {
        Self { store, queue, clock }
    }
}

#[async_trait]
impl<S, Q, C> Step<Envelope<ApprovalDecided>> for EnqueueDecision<S, Q, C>
where
    S: RequestStore + EffectStore + Outbox,
    Q: DecisionQueue,
    C: Clock + 'static,
{
    type Error = ApprovalError;

    async fn handle(&self, ctx: &RecordContext, input: Envelope<ApprovalDecided>) -> Result<Outcome, ApprovalError> {
        let now = self.clock.now();
        enqueue_decision(self.store.as_ref(), self.queue.as_ref(), input.payload, &ctx.correlation_id, now).await
    }
}

#[cfg(test)]
mod tests {
    use approvals::testing::{FakeDecisionQueue, MemoryApprovalStore};
    use approvals::{Decision, Status};
    use aws_lambda_events::sqs::SqsEvent;
    use kit::batch::{BatchRunner, RunnerConfig};
    use kit::clock::FixedClock;
    use kit::decode::EnvelopeBody;
    use kit::testing::{FakeQueues, RecordingPublisher};

    use super::*;

    #[tokio::test]
    async fn the_sample_batch_sends_the_decision_once() {
        let now: chrono::DateTime<chrono::Utc> = "2024-06-01T12:00:05Z".parse().unwrap();
        let store = Arc::new(MemoryApprovalStore::default());
        let submission = serde_json::from_value(serde_json::json!({
            "request_id": "demo-restart-1", "issue_id": "INC-1042", "action": "restart-service",
            "approvers": ["a@example.org"], "expires_in_minutes": 60,
        }))
        .unwrap();
        let publisher = RecordingPublisher::default();
        approvals::usecases::create_request(
            store.as_ref(),
            &publisher,
            submission,
            "c",
            now,
            chrono::Duration::minutes(2),
        )
        .await
        .unwrap();
        store.edit("demo-restart-1", |r| {
            r.status = Status::Approved;
            r.decision =
                Some(approvals::state::DecisionRecord { decision: Decision::Approved, decided_at: now, decided_by: 0 });
        });

        let event: SqsEvent =
            serde_json::from_str(include_str!("../../../events/enqueue-decision/sqs-batch.json")).unwrap();
        let queue = Arc::new(FakeDecisionQueue::default());
        let step = EnqueueDecision::new(store.clone(), queue.clone(), FixedClock::at(now));
        let mut config = RunnerConfig::new(STEP);
        config.concurrency = 1;
        let runner = BatchRunner::new(config, Arc::new(FakeQueues::default()));
        let resp = runner.run(event, None, Arc::new(EnvelopeBody::<ApprovalDecided>::default()), Arc::new(step)).await;

        assert!(resp.batch_item_failures.is_empty());
        assert_eq!(queue.sends().len(), 1, "the redelivered event sent nothing");
        assert_eq!(queue.sends()[0].correlation_id, "req-create-1");
        assert!(store.request("demo-restart-1").unwrap().decision_enqueued_at.is_some());
    }
}
