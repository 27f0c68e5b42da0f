//! Translates a `contact.check-recording` message into the check use case.

use std::sync::Arc;

use async_trait::async_trait;
use contacts::ports::{ContactStore, RecordingArchive};
use contacts::usecases::{check_recording, CheckSettings};
use contacts::{CheckRecording, ContactError};
use kit::batch::{Outcome, RecordContext, Step};
use kit::clock::Clock;
use kit::publisher::EventPublisher;
use kit::Envelope;

pub const STEP: &str = "check-recording";

pub struct Check<S, A, P, C> {
    store: Arc<S>,
    archive: Arc<A>,
    alerts: Arc<P>,
    settings: CheckSettings,
    clock: C,
}

impl<S, A, P, C> Check<S, A, P, C> {
    pub fn new(store: Arc<S>, archive: Arc<A>, alerts: Arc<P>, settings: CheckSettings, clock: C) -> Self {
        Self { store, archive, alerts, settings, clock }
    }
}

#[async_trait]
impl<S, A, P, C> Step<Envelope<CheckRecording>> for Check<S, A, P, C>
where
    S: ContactStore,
    A: RecordingArchive,
    P: EventPublisher,
    C: Clock + 'static,
{
    type Error = ContactError;

    async fn handle(&self, _ctx: &RecordContext, input: Envelope<CheckRecording>) -> Result<Outcome, ContactError> {
        let (store, archive, alerts) = (self.store.as_ref(), self.archive.as_ref(), self.alerts.as_ref());
        check_recording(store, archive, alerts, &self.settings, &input.payload, self.clock.now()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, Utc};
    use contacts::flow_log::FlowRecordingSetting;
    use contacts::testing::{MemoryArchive, MemoryContactStore};
    use contacts::{Contact, ContactId, ContactState, InstanceId, RecordingState};
    use kit::clock::FixedClock;
    use kit::testing::RecordingPublisher;

    const ID: &str = "1c0ffee0-0003-4003-8003-000000000002";

    fn ctx() -> RecordContext {
        RecordContext {
            step: Arc::from(STEP),
            message_id: "m".into(),
            correlation_id: ID.into(),
            workflow_id: Some(ID.into()),
            receive_count: 1,
            first_received_at: None,
            group_id: None,
            deadline: None,
        }
    }

    #[tokio::test]
    async fn an_unrecorded_call_alerts_once_after_the_grace_period() {
        let ended = Utc::now();
        let store = Arc::new(MemoryContactStore::default());
        let requested = FlowRecordingSetting {
            contact_id: ContactId::parse(ID).unwrap(),
            instance_id: InstanceId::parse("5e7c0a11-0003-4003-8003-00000000c0a1").unwrap(),
            at: None,
            participants: vec!["Agent".into(), "Customer".into()],
            analytics: true,
        };
        let mut contact = Contact::initialised(requested, ended - Duration::minutes(3));
        contact.state = ContactState::CompletedAgent;
        contact.agent_connected_at = Some(ended - Duration::minutes(2));
        contact.disconnected_at = Some(ended);
        store.put(contact);
        let alerts = Arc::new(RecordingPublisher::default());
        let settings =
            CheckSettings { key_prefix: "connect/x/CallRecordings".into(), grace: std::time::Duration::from_secs(60) };
        let clock = FixedClock::at(ended + Duration::seconds(30));
        let step = Check::new(store.clone(), Arc::new(MemoryArchive::default()), alerts.clone(), settings, clock);
        let message = || {
            contacts::messages::envelope(&ContactId::parse(ID).unwrap(), "s", CheckRecording { contact_id: ID.into() })
        };

        step.handle(&ctx(), message()).await.unwrap();
        assert!(alerts.published().is_empty(), "within the grace period");
        step.clock.advance(Duration::seconds(60));
        step.handle(&ctx(), message()).await.unwrap();
        step.handle(&ctx(), message()).await.unwrap();
        assert_eq!(alerts.of_type("contact.recording-missing").len(), 1);
        let stored = store.contact(&ContactId::parse(ID).unwrap()).unwrap();
        assert_eq!(stored.recording_state, Some(RecordingState::Missing));
    }

    #[tokio::test]
    async fn the_sample_batch_decodes_and_settles() {
        use kit::batch::{BatchRunner, RunnerConfig};
        use kit::decode::EnvelopeBody;
        let event: aws_lambda_events::sqs::SqsEvent =
            serde_json::from_str(include_str!("../../../events/check-recording/sqs-batch.json")).unwrap();
        let queues = Arc::new(kit::testing::FakeQueues::default());
        let runner = BatchRunner::new(RunnerConfig::new(STEP), queues.clone());
        let settings = CheckSettings { key_prefix: "p".into(), grace: std::time::Duration::from_secs(60) };
        let step = Arc::new(Check::new(
            Arc::new(MemoryContactStore::default()),
            Arc::new(MemoryArchive::default()),
            Arc::new(RecordingPublisher::default()),
            settings,
            kit::clock::SystemClock,
        ));
        let response = runner.run(event, None, Arc::new(EnvelopeBody::<CheckRecording>::default()), step).await;
        assert!(response.batch_item_failures.is_empty() && queues.dead_letters().is_empty());
    }
}
