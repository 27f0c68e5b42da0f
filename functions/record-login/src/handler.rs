//! Translates a decoded record into the record-login use case.

use activity::record::{record_login, RecordLoginError};
use activity::{LoginRecorder, RawLoginEvent};
use async_trait::async_trait;
use kit::batch::{Outcome, RecordContext, Step};
use kit::clock::Clock;
use tracing::info;

pub const STEP: &str = "record-login";

pub struct RecordLogin<S, C> {
    store: S,
    clock: C,
}

impl<S, C> RecordLogin<S, C> {
    pub fn new(store: S, clock: C) -> Self {
        Self { store, clock }
    }
}

#[async_trait]
impl<S: LoginRecorder, C: Clock + 'static> Step<RawLoginEvent> for RecordLogin<S, C> {
    type Error = RecordLoginError;

    async fn handle(&self, _ctx: &RecordContext, input: RawLoginEvent) -> Result<Outcome, Self::Error> {
        let (event, outcome) = record_login(&self.store, input, self.clock.now()).await?;
        // Ids only: user ids are pseudonymous subject ids, never emails.
        info!(event_id = %event.event_id, service_id = %event.service_id, ?outcome, "login recorded");
        Ok(outcome)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use activity::{LoginEvent, Recorded, StoreError};
    use aws_lambda_events::sqs::SqsEvent;
    use kit::batch::{BatchRunner, RunnerConfig};
    use kit::clock::FixedClock;
    use kit::decode::JsonBody;
    use kit::testing::FakeQueues;

    use super::*;

    #[derive(Default)]
    struct Recorder(Mutex<Vec<LoginEvent>>);

    #[async_trait]
    impl LoginRecorder for Recorder {
        async fn record(&self, e: &LoginEvent) -> Result<Recorded, StoreError> {
            let mut seen = self.0.lock().unwrap();
            let new_event = !seen.iter().any(|x| x.event_id == e.event_id);
            seen.push(e.clone());
            Ok(Recorded { new_event, newest_for_service: true })
        }
    }

    #[tokio::test]
    async fn the_sample_batch_is_recorded_and_the_poison_record_dead_lettered() {
        let event: SqsEvent =
            serde_json::from_str(include_str!("../../../events/record-login/sqs-batch.json")).unwrap();
        let n = event.records.len();
        let recorder = Arc::new(Recorder::default());
        let queues = Arc::new(FakeQueues::default());
        let runner = BatchRunner::new(RunnerConfig::new(STEP), queues.clone());
        let clock = FixedClock::at("2024-06-01T00:00:00Z".parse().unwrap());
        let step = RecordLogin::new(ArcRecorder(recorder.clone()), clock);
        let resp = runner.run(event, None, Arc::new(JsonBody::<RawLoginEvent>::default()), Arc::new(step)).await;

        assert!(resp.batch_item_failures.is_empty(), "nothing should be retried");
        let letters = queues.dead_letters();
        assert_eq!(letters.len(), 1, "the fixture holds one poison record");
        assert_eq!(letters[0].kind, "invalid_login_event");
        assert!(letters[0].reason.contains("timestamp"), "{}", letters[0].reason);
        assert_eq!(recorder.0.lock().unwrap().len(), n - 1);
    }

    struct ArcRecorder(Arc<Recorder>);
    #[async_trait]
    impl LoginRecorder for ArcRecorder {
        async fn record(&self, e: &LoginEvent) -> Result<Recorded, StoreError> {
            self.0.record(e).await
        }
    }
}
