//! `record-feedback`, a whole step built on the kit alone (docs/step-kit.md, "Writing
//! a new step"): it reads a user's feedback as raw JSON from an entry queue,
//! validates it, records it once on DynamoDB and announces `feedback.recorded`.
//!
//! The body carries no id of its own, so nothing in it tells a redelivery from a
//! second submission: the side effect is made once per SQS message with
//! [`kit::idempotency`], whose record also keeps the id minted for the feedback, so
//! a redelivery announces the same event again (same message id) instead of a new one.
//!
//! `cargo test -p kit --example record_feedback` runs its tests.

use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use kit::batch::{Outcome, RecordContext, Step};
use kit::clock::{Clock, SystemClock};
use kit::decode::JsonBody;
use kit::idempotency::{dynamodb::DynamoIdempotencyStore, Idempotency, IdempotencyError, IdempotencyStore};
use kit::publisher::{EventPublisher, PublishError};
use kit::store::{ConditionalWrite, StoreError};
use kit::Envelope;
use serde::{Deserialize, Serialize};

// ---- The domain: what feedback is, what is announced, where it is kept. ----

const STEP: &str = "record-feedback";

/// What the sender posts.
#[derive(Deserialize)]
struct RawFeedback {
    user_id: String,
    rating: u8,
    #[serde(default)]
    comment: String,
}

/// Feedback that passed [`validate`].
#[derive(Debug, Clone, PartialEq, Serialize)]
struct Feedback {
    user_id: String,
    rating: u8,
    comment: String,
}

/// The rules, run by the decoder: a bad value is dead-lettered like a missing field.
fn validate(raw: RawFeedback) -> Result<Feedback, &'static str> {
    if !(1..=5).contains(&raw.rating) {
        return Err("rating must be 1 to 5");
    }
    if raw.user_id.trim().is_empty() || raw.comment.chars().count() > 2000 {
        return Err("user_id is empty or the comment is over 2000 characters");
    }
    Ok(Feedback { user_id: raw.user_id, rating: raw.rating, comment: raw.comment })
}

/// The event this step announces.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct FeedbackRecorded {
    feedback_id: String,
    rating: u8,
}

impl kit::Message for FeedbackRecorded {
    const TYPE: &'static str = "feedback.recorded";
    const VERSION: u32 = 1;
}

/// Where feedback is kept (the port the step's tests fake).
#[async_trait]
trait FeedbackTable: Send + Sync + 'static {
    async fn put(&self, id: &str, feedback: &Feedback) -> Result<(), StoreError>;
}

// ---- What the kit does not write for you: the error, the adapter, the step, main. ----

kit::step_error! {
    enum RecordError { Record(IdempotencyError<StoreError>), Publish(PublishError) }
}

struct DynamoFeedback(aws_sdk_dynamodb::Client, String);

#[async_trait]
impl FeedbackTable for DynamoFeedback {
    async fn put(&self, id: &str, f: &Feedback) -> Result<(), StoreError> {
        let s = |v: &str| AttributeValue::S(v.to_owned());
        let put = self.0.put_item().table_name(&self.1).item("feedback_id", s(id)).item("user_id", s(&f.user_id));
        let put = put.item("rating", AttributeValue::N(f.rating.to_string())).item("comment", s(&f.comment));
        // Never overwrite: a minted id that exists already was this very feedback.
        put.condition_expression("attribute_not_exists(feedback_id)").send().await.conditional("PutItem")?;
        Ok(())
    }
}

struct RecordFeedback<T, I, P> {
    table: T,
    once: Idempotency<I, Arc<dyn Clock>>,
    publisher: P,
    clock: Arc<dyn Clock>,
}

#[async_trait]
impl<T: FeedbackTable, I: IdempotencyStore, P: EventPublisher> Step<Feedback> for RecordFeedback<T, I, P> {
    type Error = RecordError;

    async fn handle(&self, ctx: &RecordContext, feedback: Feedback) -> Result<Outcome, RecordError> {
        let mint_and_put = || async {
            let id = uuid::Uuid::new_v4().to_string();
            self.table.put(&id, &feedback).await.map(|()| id)
        };
        // Keyed by the message: a redelivery is the same message, a second submission is not.
        let once = self.once.once(&format!("{STEP}#{}", ctx.message_id), &feedback, ctx.deadline, mint_and_put).await?;
        let (outcome, id) = (once.outcome(), once.into_inner());
        let event = FeedbackRecorded { feedback_id: id.clone(), rating: feedback.rating };
        let envelope = Envelope::at(&self.clock, &id, &ctx.correlation_id, event).with_id(format!("{id}/recorded"));
        self.publisher.publish(&envelope).await?;
        Ok(outcome)
    }
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    // This step's own settings: [idempotency table, topic].
    let vars = |env: &mut kit::config::Env| [env.required("IDEMPOTENCY_TABLE_NAME"), env.required("TOPIC_ARN")];
    let started = kit::start::step(STEP, "FEEDBACK_TABLE_NAME", vars).await;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let step = RecordFeedback {
        table: DynamoFeedback(started.dynamodb(), started.config.table.clone()),
        once: Idempotency::new(DynamoIdempotencyStore::new(started.dynamodb(), started.own[0].clone()), clock.clone()),
        publisher: started.publisher(started.own[1].clone()),
        clock,
    };
    started.serve(JsonBody::validated("invalid_feedback", validate), step).await
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use kit::batch::{BatchRunner, RunnerConfig, Settlement};
    use kit::clock::FixedClock;
    use kit::testing::{FakeQueues, MemoryIdempotencyStore, RecordingPublisher, SqsRecord};

    use super::*;

    /// The table, in memory; it can be told to fail like a throttled DynamoDB.
    #[derive(Default)]
    struct MemoryTable {
        items: Mutex<Vec<(String, Feedback)>>,
        throttled: std::sync::atomic::AtomicBool,
    }

    #[async_trait]
    impl FeedbackTable for Arc<MemoryTable> {
        async fn put(&self, id: &str, feedback: &Feedback) -> Result<(), StoreError> {
            if self.throttled.load(std::sync::atomic::Ordering::SeqCst) {
                let failure = kit::sdk::SdkFailure::retryable("ProvisionedThroughputExceededException");
                return Err(StoreError::Sdk { operation: "PutItem", failure });
            }
            self.items.lock().unwrap().push((id.to_owned(), feedback.clone()));
            Ok(())
        }
    }

    struct World {
        table: Arc<MemoryTable>,
        publisher: Arc<RecordingPublisher>,
        queues: Arc<FakeQueues>,
        runner: BatchRunner<Arc<FakeQueues>>,
        step: Arc<RecordFeedback<Arc<MemoryTable>, Arc<MemoryIdempotencyStore>, Arc<RecordingPublisher>>>,
    }

    fn world() -> World {
        let clock: Arc<dyn Clock> = Arc::new(FixedClock::at("2024-06-01T12:00:00Z".parse().unwrap()));
        let (table, publisher, queues) = (Arc::default(), Arc::new(RecordingPublisher::default()), Arc::default());
        let once = Idempotency::new(Arc::new(MemoryIdempotencyStore::default()), clock.clone());
        let step = Arc::new(RecordFeedback { table: Arc::clone(&table), once, publisher: publisher.clone(), clock });
        let runner = BatchRunner::new(RunnerConfig::new(STEP), Arc::clone(&queues));
        World { table, publisher, queues, runner, step }
    }

    impl World {
        async fn deliver(&self, record: SqsRecord) -> Settlement {
            let decoder = Arc::new(JsonBody::validated("invalid_feedback", validate));
            let mut settled = self.runner.settle_all(vec![record.build()], None, decoder, self.step.clone()).await;
            settled.pop().unwrap().1
        }
    }

    const GOOD: &str = r#"{"user_id":"u-1","rating":4,"comment":"quick"}"#;

    #[tokio::test]
    async fn feedback_is_recorded_and_announced_once_even_when_redelivered() {
        let w = world();
        let first = w.deliver(SqsRecord::new(GOOD).message_id("m-1").correlation_id("c-1")).await;
        let again = w.deliver(SqsRecord::new(GOOD).message_id("m-1").receive_count(2)).await;

        assert_eq!(first, Settlement::Acknowledged(Outcome::Done));
        assert_eq!(again, Settlement::Acknowledged(Outcome::Duplicate));
        let items = w.table.items.lock().unwrap().clone();
        assert_eq!(items.len(), 1, "one item, whatever the deliveries");
        let events = w.publisher.envelopes::<FeedbackRecorded>();
        assert_eq!(events.len(), 2, "the redelivery announces again, in case the first publish was lost");
        assert_eq!(events[0].id, events[1].id, "with the same message id, so consumers drop the twin");
        assert_eq!(events[0].payload, FeedbackRecorded { feedback_id: items[0].0.clone(), rating: 4 });
        assert_eq!(
            (events[0].correlation_id.as_str(), events[0].occurred_at.to_rfc3339().as_str()),
            ("c-1", "2024-06-01T12:00:00+00:00")
        );
    }

    #[tokio::test]
    async fn a_missing_field_and_a_bad_value_are_dead_lettered_alike() {
        let w = world();
        for body in [r#"{"user_id":"u-1"}"#, r#"{"user_id":"u-1","rating":9}"#] {
            let settled = w.deliver(SqsRecord::new(body)).await;
            assert_eq!(settled, Settlement::DeadLettered { kind: "invalid_feedback".into() }, "{body}");
        }
        let reasons: Vec<String> = w.queues.dead_letters().into_iter().map(|l| l.reason).collect();
        assert!(reasons[0].contains("`rating`") && reasons[1].contains("rating must be 1 to 5"), "{reasons:?}");
        assert!(w.table.items.lock().unwrap().is_empty() && w.publisher.published().is_empty());
    }

    #[tokio::test]
    async fn a_throttled_table_is_retried_and_the_retry_records_it() {
        let w = world();
        w.table.throttled.store(true, std::sync::atomic::Ordering::SeqCst);
        let first = w.deliver(SqsRecord::new(GOOD)).await;
        assert_eq!(first, Settlement::Retry { kind: "dynamodb_unavailable".into() });
        assert_eq!(w.queues.visibility_changes().len(), 1, "it comes back after the backoff");

        w.table.throttled.store(false, std::sync::atomic::Ordering::SeqCst);
        let retry = w.deliver(SqsRecord::new(GOOD).receive_count(2)).await;
        assert_eq!(retry, Settlement::Acknowledged(Outcome::Done), "the failed attempt released its key");
        assert_eq!(w.publisher.envelopes::<FeedbackRecorded>().len(), 1);
    }
}
