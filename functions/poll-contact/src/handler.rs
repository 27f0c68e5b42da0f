//! Translates a `contact.poll` message into the poll use case.

use std::sync::Arc;

use async_trait::async_trait;
use contacts::ports::{ContactDirectory, ContactStore};
use contacts::usecases::poll_contact;
use contacts::{ContactError, PollContact};
use kit::batch::{Outcome, RecordContext, Step};
use kit::clock::Clock;
use kit::Envelope;

pub const STEP: &str = "poll-contact";

pub struct Poll<S, D, C> {
    store: Arc<S>,
    directory: Arc<D>,
    clock: C,
}

impl<S, D, C> Poll<S, D, C> {
    pub fn new(store: Arc<S>, directory: Arc<D>, clock: C) -> Self {
        Self { store, directory, clock }
    }
}

#[async_trait]
impl<S: ContactStore, D: ContactDirectory, C: Clock + 'static> Step<Envelope<PollContact>> for Poll<S, D, C> {
    type Error = ContactError;

    async fn handle(&self, _ctx: &RecordContext, input: Envelope<PollContact>) -> Result<Outcome, ContactError> {
        poll_contact(self.store.as_ref(), self.directory.as_ref(), &input.payload, self.clock.now()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lambda_events::sqs::{SqsEvent, SqsMessage};
    use contacts::flow_log::FlowRecordingSetting;
    use contacts::ports::Described;
    use contacts::testing::{FakeDirectory, MemoryContactStore};
    use contacts::{Contact, ContactId, ContactState, ContactView, InstanceId};
    use kit::batch::{BatchRunner, RunnerConfig};
    use kit::clock::SystemClock;
    use kit::decode::EnvelopeBody;
    use kit::testing::FakeQueues;

    const ID: &str = "1c0ffee0-0003-4003-8003-000000000001";

    fn record(receive_count: u32) -> SqsMessage {
        let mut m = SqsMessage::default();
        m.message_id = Some("m-1".into());
        m.receipt_handle = Some("rh-1".into());
        m.event_source_arn = Some("arn:aws:sqs:eu-west-2:123456789012:local-poll-contact".into());
        m.attributes.insert("ApproximateReceiveCount".into(), receive_count.to_string());
        let env = contacts::messages::envelope(
            &ContactId::parse(ID).unwrap(),
            "2026-01-01T10:05Z",
            PollContact { contact_id: ID.into() },
        );
        m.body = Some(serde_json::to_string(&env).unwrap());
        m
    }

    fn world() -> (Arc<MemoryContactStore>, Arc<FakeDirectory>) {
        let store = Arc::new(MemoryContactStore::default());
        let requested = FlowRecordingSetting {
            contact_id: ContactId::parse(ID).unwrap(),
            instance_id: InstanceId::parse("5e7c0a11-0003-4003-8003-00000000c0a1").unwrap(),
            at: None,
            participants: vec!["Agent".into()],
            analytics: false,
        };
        store.put(Contact::initialised(requested, chrono::Utc::now()));
        let directory = Arc::new(FakeDirectory::default());
        let view = ContactView { agent_connected_at: Some(chrono::Utc::now()), ..ContactView::default() };
        directory.script(&ContactId::parse(ID).unwrap(), vec![Described::Found(view)]);
        (store, directory)
    }

    async fn run(store: Arc<MemoryContactStore>, directory: Arc<FakeDirectory>, receive_count: u32) -> Arc<FakeQueues> {
        let queues = Arc::new(FakeQueues::default());
        let runner = BatchRunner::new(RunnerConfig::new(STEP), queues.clone());
        let mut event = SqsEvent::default();
        event.records = vec![record(receive_count)];
        let step = Arc::new(Poll::new(store, directory, SystemClock));
        runner.run(event, None, Arc::new(EnvelopeBody::<PollContact>::default()), step).await;
        queues
    }

    #[tokio::test]
    async fn a_throttled_poll_is_retried_with_backoff_not_dead_lettered() {
        let (store, directory) = world();
        directory.throttle_next(1);
        let queues = run(store.clone(), directory.clone(), 1).await;
        assert!(queues.dead_letters().is_empty());
        assert_eq!(queues.visibility_changes().len(), 1, "backoff applied");
        let id = ContactId::parse(ID).unwrap();
        assert_eq!(store.contact(&id).unwrap().state, ContactState::Initialised);

        let queues = run(store.clone(), directory, 2).await;
        assert!(queues.dead_letters().is_empty() && queues.visibility_changes().is_empty());
        assert_eq!(store.contact(&id).unwrap().state, ContactState::InProgressAgent);
    }

    #[tokio::test]
    async fn throttling_on_the_last_receive_is_dead_lettered_with_the_reason() {
        let (store, directory) = world();
        directory.throttle_next(1);
        // The shipped budget: the queue's maxReceiveCount, as the template derives it.
        let last = kit::retry::STANDARD.max_receive_count();
        let queues = run(store, directory, last).await;
        let letters = queues.dead_letters();
        assert_eq!(letters.len(), 1);
        assert_eq!(letters[0].kind, "connect_throttled");
        let expected = format!("gave up after {last} receives");
        assert!(letters[0].reason.starts_with(&expected), "{}", letters[0].reason);
    }

    #[tokio::test]
    async fn the_sample_batch_decodes_and_settles() {
        let event: SqsEvent =
            serde_json::from_str(include_str!("../../../events/poll-contact/sqs-batch.json")).unwrap();
        let (store, directory) = world();
        let queues = Arc::new(FakeQueues::default());
        let runner = BatchRunner::new(RunnerConfig::new(STEP), queues.clone());
        let step = Arc::new(Poll::new(store.clone(), directory, SystemClock));
        let response = runner.run(event, None, Arc::new(EnvelopeBody::<PollContact>::default()), step).await;
        assert!(response.batch_item_failures.is_empty() && queues.dead_letters().is_empty());
        let id = ContactId::parse(ID).unwrap();
        assert_eq!(store.contact(&id).unwrap().state, ContactState::InProgressAgent);
    }
}
