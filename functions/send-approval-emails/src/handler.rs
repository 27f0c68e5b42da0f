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

    /// An SQS batch with one `approval.requested` record per id.
    fn batch(ids: &[&str]) -> SqsEvent {
        let records: Vec<_> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| {
                let env = approvals::messages::envelope(id, "c", ApprovalRequested { request_id: (*id).into() });
                serde_json::json!({
                    "messageId": format!("m-{i}"), "receiptHandle": format!("rh-{i}"),
                    "body": serde_json::to_string(&env).unwrap(),
                    "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1717243200000"},
                    "messageAttributes": {}, "eventSource": "aws:sqs",
                    "eventSourceARN": "arn:aws:sqs:eu-west-2:123456789012:workflows-send-approval-emails",
                })
            })
            .collect();
        serde_json::from_value(serde_json::json!({ "Records": records })).unwrap()
    }

    #[tokio::test]
    async fn a_refused_approver_is_counted_undeliverable_and_a_request_nobody_can_receive_ends_there() {
        let now: chrono::DateTime<chrono::Utc> = "2024-06-01T12:00:05Z".parse().unwrap();
        let store = Arc::new(MemoryApprovalStore::default());
        let publisher = RecordingPublisher::default();
        let mailer = Arc::new(FakeMailer::default());
        let people = |id: &str| [0, 1, 2].map(|i| format!("p{i}.{id}@example.org"));
        for id in ["one-refused", "all-refused"] {
            let submission = serde_json::from_value(serde_json::json!({
                "request_id": id, "issue_id": "INC-1", "action": "restart-service",
                "approvers": people(id), "expires_in_minutes": 60 * 24 * 7,
            }))
            .unwrap();
            create_request(store.as_ref(), &publisher, submission, "c", now, chrono::Duration::minutes(2))
                .await
                .unwrap();
        }
        mailer.refuse(&people("one-refused")[1]);
        for p in people("all-refused") {
            mailer.refuse(&p);
        }

        let queues = Arc::new(FakeQueues::default());
        let step =
            SendApprovalEmails::new(store.clone(), mailer.clone(), "https://api.example".into(), FixedClock::at(now));
        let runner = BatchRunner::new(RunnerConfig::new(STEP), queues.clone());
        let decoder = Arc::new(EnvelopeBody::<ApprovalRequested>::default());
        let step = Arc::new(step);
        let resp = runner.run(batch(&["one-refused", "all-refused"]), None, decoder.clone(), step.clone()).await;
        assert!(resp.batch_item_failures.is_empty(), "nothing to retry: {:?}", resp.batch_item_failures);
        assert!(queues.dead_letters().is_empty(), "a refused address is no dead letter");

        let [first, second, third] = people("one-refused");
        assert_eq!(mailer.sent_to(&first).len(), 1);
        assert_eq!(mailer.sent_to(&second).len(), 0);
        assert_eq!(mailer.sent_to(&third).len(), 1, "the one after the refused address got its links");
        let view = |id: &str| {
            serde_json::to_value(approvals::view::RequestView::of(&store.request(id).unwrap(), now)).unwrap()
        };
        assert_eq!(view("one-refused")["status"], "PENDING");
        assert_eq!(view("one-refused")["approvers"]["undeliverable"], 1);
        assert_eq!(view("all-refused")["status"], "UNDELIVERABLE");
        assert_eq!(view("all-refused")["approvers"]["undeliverable"], 3);

        // Days of sweeps re-publish neither; redelivered, each sends nothing more.
        let week = now + chrono::Duration::days(6);
        let swept = approvals::usecases::sweep(store.as_ref(), &publisher, week, chrono::Duration::minutes(5), 100)
            .await
            .unwrap();
        assert_eq!(swept.republished, 0, "{swept:?}");
        let resp = runner.run(batch(&["one-refused", "all-refused"]), None, decoder, step).await;
        assert!(resp.batch_item_failures.is_empty() && queues.dead_letters().is_empty());
        assert_eq!(mailer.sent().len(), 2, "each approver at most once");
        assert_eq!(mailer.attempts_to(&second), 1);
    }
}
