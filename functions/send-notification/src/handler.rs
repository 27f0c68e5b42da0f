//! Translates a `workflow.action` event into the notify use case.

use std::sync::Arc;

use async_trait::async_trait;
use audit::ports::{NotificationStore, RealtimeChannel};
use audit::usecases::notify;
use audit::{AuditError, WorkflowAction};
use kit::batch::{Outcome, RecordContext, Step};
use kit::clock::Clock;
use kit::Envelope;

pub const STEP: &str = "send-notification";

pub struct SendNotification<S, R, C> {
    store: Arc<S>,
    channel: Arc<R>,
    topic_prefix: String,
    clock: C,
}

impl<S, R, C> SendNotification<S, R, C> {
    pub fn new(store: Arc<S>, channel: Arc<R>, topic_prefix: String, clock: C) -> Self {
        Self { store, channel, topic_prefix, clock }
    }
}

#[async_trait]
impl<S: NotificationStore, R: RealtimeChannel, C: Clock + 'static> Step<Envelope<WorkflowAction>>
    for SendNotification<S, R, C>
{
    type Error = AuditError;

    async fn handle(&self, _ctx: &RecordContext, input: Envelope<WorkflowAction>) -> Result<Outcome, AuditError> {
        notify(self.store.as_ref(), self.channel.as_ref(), &self.topic_prefix, &input, self.clock.now()).await
    }
}

#[cfg(test)]
mod tests {
    use audit::testing::{MemoryNotifications, RecordingChannel};
    use aws_lambda_events::sqs::SqsEvent;
    use kit::batch::{BatchRunner, RunnerConfig};
    use kit::clock::FixedClock;
    use kit::decode::EnvelopeBody;
    use kit::testing::FakeQueues;

    use super::*;

    #[tokio::test]
    async fn the_sample_batch_delivered_twice_notifies_each_recipient_once() {
        let store = Arc::new(MemoryNotifications::default());
        let channel = Arc::new(RecordingChannel::default());
        let queues = Arc::new(FakeQueues::default());
        for _ in 0..2 {
            let event: SqsEvent =
                serde_json::from_str(include_str!("../../../events/send-notification/sqs-batch.json")).unwrap();
            let step = SendNotification::new(
                store.clone(),
                channel.clone(),
                "notifications-".into(),
                FixedClock::at("2024-06-01T12:00:10Z".parse().unwrap()),
            );
            let runner = BatchRunner::new(RunnerConfig::new(STEP), queues.clone());
            let resp =
                runner.run(event, None, Arc::new(EnvelopeBody::<WorkflowAction>::default()), Arc::new(step)).await;
            assert!(resp.batch_item_failures.is_empty(), "{resp:?}");
        }
        // The creating save tells the requester; the request tells the requester and both approvers.
        assert_eq!(store.of("requester-1").len(), 2);
        assert_eq!(store.of("approver-1").len(), 1);
        assert_eq!(store.of("approver-2").len(), 1);
        let topics: Vec<String> = channel.published().into_iter().map(|(t, _)| t).collect();
        assert_eq!(topics.len(), 4, "published once each: {topics:?}");
        assert!(topics.contains(&"notifications-approver-2".to_owned()));
        assert_eq!(queues.dead_letters().len(), 2, "the poison message, once per delivery");
    }
}
