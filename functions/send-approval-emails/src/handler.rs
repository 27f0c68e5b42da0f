//! Translates an `approval.requested` event into the send-emails use case.

use std::sync::Arc;

use approvals::ports::{EffectStore, Mailer, Outbox, RequestStore};
use approvals::usecases::{send_approval_emails, EffectContext};
use approvals::{ApprovalError, ApprovalRequested};
use async_trait::async_trait;
use kit::batch::{Outcome, RecordContext, Step};
use kit::clock::Clock;
use kit::Envelope;

pub const STEP: &str = "send-approval-emails";

pub struct SendApprovalEmails<S, M, C> {
    store: Arc<S>,
    mailer: Arc<M>,
    link_base_url: String,
    clock: C,
}

impl<S, M, C> SendApprovalEmails<S, M, C> {
    pub fn new(store: Arc<S>, mailer: Arc<M>, link_base_url: String, clock: C) -> Self {
        Self { store, mailer, link_base_url, clock }
    }
}

#[async_trait]
impl<S, M, C> Step<Envelope<ApprovalRequested>> for SendApprovalEmails<S, M, C>
where
    S: RequestStore + EffectStore + Outbox,
    M: Mailer,
    C: Clock + 'static,
{
    type Error = ApprovalError;

    async fn handle(&self, ctx: &RecordContext, input: Envelope<ApprovalRequested>) -> Result<Outcome, ApprovalError> {
        let effect = EffectContext { record: ctx, now: self.clock.now() };
        send_approval_emails(self.store.as_ref(), self.mailer.as_ref(), &self.link_base_url, input.payload, effect)
            .await
    }
}

#[cfg(test)]
mod tests {
    use approvals::testing::{FakeMailer, MemoryApprovalStore};
    use approvals::usecases::create_request;
    use aws_lambda_events::sqs::SqsEvent;
    use kit::batch::{BatchRunner, RunnerConfig};
    use kit::clock::FixedClock;
    use kit::decode::EnvelopeBody;
    use kit::testing::{FakeQueues, RecordingPublisher};

    use super::*;

    #[tokio::test]
    async fn the_sample_batch_emails_each_approver_once_and_dead_letters_the_unknown_version() {
        let now: chrono::DateTime<chrono::Utc> = "2024-06-01T12:00:05Z".parse().unwrap();
        let store = Arc::new(MemoryApprovalStore::default());
        let submission = serde_json::from_value(serde_json::json!({
            "request_id": "demo-restart-1", "issue_id": "INC-1042", "action": "restart-service",
            "approvers": ["a@example.org", "b@example.org"], "expires_in_minutes": 60,
        }))
        .unwrap();
        let publisher = RecordingPublisher::default();
        create_request(store.as_ref(), &publisher, submission, "c", now, chrono::Duration::minutes(2)).await.unwrap();

        let event: SqsEvent =
            serde_json::from_str(include_str!("../../../events/send-approval-emails/sqs-batch.json")).unwrap();
        let mailer = Arc::new(FakeMailer::default());
        let queues = Arc::new(FakeQueues::default());
        let step =
            SendApprovalEmails::new(store.clone(), mailer.clone(), "https://api.example".into(), FixedClock::at(now));
        // One record at a time: the duplicate is a redelivery, not a twin (twins are retried).
        let mut config = RunnerConfig::new(STEP);
        config.concurrency = 1;
        let runner = BatchRunner::new(config, queues.clone());
        let decoder = Arc::new(EnvelopeBody::<ApprovalRequested>::default());
        let resp = runner.run(event, None, decoder, Arc::new(step)).await;

        assert!(resp.batch_item_failures.is_empty(), "{:?}", resp.batch_item_failures);
        assert_eq!(mailer.sent().len(), 2, "the duplicate record sent nothing more");
        assert!(mailer.sent().iter().all(|e| e.text.contains("https://api.example/approvals/demo-restart-1?token=")));
        let letters = queues.dead_letters();
        assert_eq!(letters.len(), 1);
        assert_eq!(letters[0].kind, "unknown_version");
    }
}
