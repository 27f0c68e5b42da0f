//! Translates an `approval.decided` event into the notify use case.

use std::sync::Arc;

use approvals::ports::{EffectStore, Mailer, RequestStore};
use approvals::usecases::{notify_approvers, EffectContext};
use approvals::{ApprovalDecided, ApprovalError};
use async_trait::async_trait;
use kit::batch::{Outcome, RecordContext, Step};
use kit::clock::Clock;
use kit::Envelope;

pub const STEP: &str = "notify-approvers";

pub struct NotifyApprovers<S, M, C> {
    store: Arc<S>,
    mailer: Arc<M>,
    clock: C,
}

impl<S, M, C> NotifyApprovers<S, M, C> {
    pub fn new(store: Arc<S>, mailer: Arc<M>, clock: C) -> Self {
        Self { store, mailer, clock }
    }
}

#[async_trait]
impl<S, M, C> Step<Envelope<ApprovalDecided>> for NotifyApprovers<S, M, C>
where
    S: RequestStore + EffectStore,
    M: Mailer,
    C: Clock + 'static,
{
    type Error = ApprovalError;

    async fn handle(&self, ctx: &RecordContext, input: Envelope<ApprovalDecided>) -> Result<Outcome, ApprovalError> {
        let effect = EffectContext { record: ctx, now: self.clock.now() };
        notify_approvers(self.store.as_ref(), self.mailer.as_ref(), input.payload, effect).await
    }
}

#[cfg(test)]
mod tests {
    use approvals::testing::{FakeMailer, MemoryApprovalStore};
    use approvals::{Decision, Status};
    use aws_lambda_events::sqs::SqsEvent;
    use kit::batch::{BatchRunner, RunnerConfig};
    use kit::clock::FixedClock;
    use kit::decode::EnvelopeBody;
    use kit::testing::{FakeQueues, RecordingPublisher};

    use super::*;

    #[tokio::test]
    async fn the_sample_batch_tells_the_others_once() {
        let now: chrono::DateTime<chrono::Utc> = "2024-06-01T12:00:05Z".parse().unwrap();
        let store = Arc::new(MemoryApprovalStore::default());
        let submission = serde_json::from_value(serde_json::json!({
            "request_id": "demo-restart-1", "issue_id": "INC-1042", "action": "restart-service",
            "approvers": ["a@example.org", "b@example.org", "c@example.org"], "expires_in_minutes": 60,
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
            for a in &mut r.approvers {
                a.emailed_at = Some(now);
            }
            r.status = Status::Approved;
            r.decision =
                Some(approvals::state::DecisionRecord { decision: Decision::Approved, decided_at: now, decided_by: 1 });
        });

        let event: SqsEvent =
            serde_json::from_str(include_str!("../../../events/notify-approvers/sqs-batch.json")).unwrap();
        let mailer = Arc::new(FakeMailer::default());
        let step = NotifyApprovers::new(store.clone(), mailer.clone(), FixedClock::at(now));
        let mut config = RunnerConfig::new(STEP);
        config.concurrency = 1;
        let runner = BatchRunner::new(config, Arc::new(FakeQueues::default()));
        let resp = runner.run(event, None, Arc::new(EnvelopeBody::<ApprovalDecided>::default()), Arc::new(step)).await;

        assert!(resp.batch_item_failures.is_empty());
        let to: Vec<String> = mailer.sent().into_iter().map(|e| e.to).collect();
        assert_eq!(to, ["a@example.org", "c@example.org"], "the decider is not told; nobody twice");
    }
}
