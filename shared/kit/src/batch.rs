//! The SQS batch runner: every SQS-triggered step uses it.
//!
//! Each record is decoded and handled on its own task (so a panic or a bad body
//! stays with its record), at most `concurrency` at a time, inside a span that
//! carries the step, message id and correlation id. The answer is a partial batch
//! response: only records that should come back are listed. What happens to a
//! failure depends on its class:
//!
//! * retryable → listed as a batch item failure, its visibility stretched by the
//!   step's retry policy ([`crate::retry`]: exponential, jittered, capped; at least
//!   a provider's `Retry-After`), and counted against its dependency (the
//!   `DependencyFailures` metric an outage alarm watches);
//! * permanent → sent to the queue's DLQ at once with reason, kind, step and
//!   first-seen time as attributes, then acknowledged (it must not burn retries);
//! * retryable on its last allowed receive → dead-lettered the same way, so every
//!   dead letter carries its reason (the redrive policy stays as the safety net for
//!   crashes and timeouts).
//!
//! If dead-lettering itself fails the record is reported as failed: nothing is
//! acknowledged that is not either done or safely in the DLQ.
//!
//! The settle phase (DLQ send, the step's `dead_lettered` write, the visibility
//! change) runs inside the deadline margin, each call bounded by the time left
//! before the deadline (less a reserve to answer): a slow SQS or DynamoDB costs at
//! most the margin, never the whole batch.
//!
//! FIFO queues: records of one message group run in order; after a failure the rest
//! of that group in the batch is failed too (ordering kept); other groups go on.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use async_trait::async_trait;
use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use chrono::{DateTime, TimeZone, Utc};
use futures::StreamExt;
use tracing::{error, error_span, info, warn, Instrument};

use crate::decode::Decode;
use crate::error::{chain, Classify, ErrorClass};
use crate::metrics as m;
use crate::queue::{DeadLetter, QueueOps};
use crate::retry::{RetryPolicy, MAX_RETRY_AFTER};

/// What a step learns about the record besides its input.
#[derive(Debug, Clone)]
pub struct RecordContext {
    /// The step's name (the `step` attribute on its dead letters).
    pub step: Arc<str>,
    /// SQS's id of the message.
    pub message_id: String,
    /// The correlation id carried from the first step (every log line has it).
    pub correlation_id: String,
    /// The workflow the message belongs to, when the envelope says.
    pub workflow_id: Option<String>,
    /// 1 on first delivery.
    pub receive_count: u32,
    /// When SQS first handed the message over.
    pub first_received_at: Option<DateTime<Utc>>,
    /// The FIFO message group, on a FIFO queue.
    pub group_id: Option<String>,
    /// When the Lambda invocation must have answered: leases are sized from it.
    pub deadline: Option<DateTime<Utc>>,
}

/// A successful handling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The side effect happened now.
    Done,
    /// The record's effect had already happened (redelivery): nothing changed.
    Duplicate,
}

/// A step's business logic for one record. It knows nothing of SQS.
#[async_trait]
pub trait Step<T>: Send + Sync + 'static {
    /// The step's error: classified, so the runner knows whether to retry.
    type Error: Classify + std::error::Error + Send + Sync + 'static;
    /// Handles one decoded record; must be idempotent (delivery is at least once).
    async fn handle(&self, ctx: &RecordContext, input: T) -> Result<Outcome, Self::Error>;

    /// Called after the record was safely put on the DLQ, so the workflow's state can
    /// say so (a report shown as FAILED rather than stuck). Best effort: the dead
    /// letter already holds the reason, so a failure here is only logged.
    async fn dead_lettered(&self, _ctx: &RecordContext, _letter: &DeadLetterNotice) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// What a step hears about its own dead-lettered record.
#[derive(Debug, Clone)]
pub struct DeadLetterNotice {
    /// The error's kind (`Classify::kind`).
    pub kind: String,
    /// Why it was dead-lettered: permanent, or retryable out of receives.
    pub class: ErrorClass,
    /// The reason, as the dead letter carries it.
    pub reason: String,
}

/// How a record ended, as the runner settles it.
#[derive(Debug, Clone, PartialEq)]
pub enum Settlement {
    /// Handled (or found done before): deleted from the queue.
    Acknowledged(Outcome),
    /// Sent to the DLQ with its reason, then acknowledged.
    DeadLettered {
        /// The error's kind.
        kind: String,
    },
    /// Left to come back after the backoff.
    Retry {
        /// The error's kind.
        kind: String,
    },
    /// Not attempted: an earlier record of its FIFO group failed.
    SkippedAfterGroupFailure,
    /// Not attempted: too little of the invocation was left to finish it.
    NotStartedBeforeDeadline,
}

impl Settlement {
    fn is_failure(&self) -> bool {
        matches!(
            self,
            Settlement::Retry { .. } | Settlement::SkippedAfterGroupFailure | Settlement::NotStartedBeforeDeadline
        )
    }
}

/// Runner settings; [`crate::config::runner_config`] reads them from the environment once
/// at start (as part of [`crate::config::StepConfig`]).
#[derive(Debug, Clone)]
pub struct RunnerConfig {
    /// The step's name: log field, metric dimension, DLQ attribute.
    pub step: String,
    /// How many records (or FIFO groups) run at once (`RECORD_CONCURRENCY`).
    pub concurrency: usize,
    /// Keep FIFO group order (also recognised from a `.fifo` source ARN).
    pub fifo: bool,
    /// The source queue's redrive `maxReceiveCount` (the policy's, in the template).
    pub max_receive_count: u32,
    /// How retryable failures are spaced and for how long.
    pub policy: RetryPolicy,
    /// Time kept back before the invocation deadline to settle records (DLQ sends,
    /// visibility changes): no record starts, and none runs, past `deadline - margin`.
    pub deadline_margin: std::time::Duration,
    /// The bound of each settle call when the invocation has no deadline (tests, benches).
    pub settle_timeout: std::time::Duration,
}

/// Kept back from the deadline to answer the runtime API after settling.
const ANSWER_RESERVE: std::time::Duration = std::time::Duration::from_millis(200);

impl RunnerConfig {
    /// The defaults: the standard retry policy, 10 at once, a 1.5 s deadline margin.
    pub fn new(step: impl Into<String>) -> Self {
        Self {
            step: step.into(),
            concurrency: 10,
            fifo: false,
            max_receive_count: crate::retry::STANDARD.max_receive_count(),
            policy: crate::retry::STANDARD,
            deadline_margin: std::time::Duration::from_millis(1500),
            settle_timeout: std::time::Duration::from_secs(5),
        }
    }
}

/// One failed record's facts, before deciding retry vs dead letter.
struct Failure {
    class: ErrorClass,
    kind: String,
    reason: String,
    retry_after: Option<std::time::Duration>,
    dependency: Option<&'static str>,
}

impl Failure {
    fn of<E: Classify + std::error::Error + 'static>(e: &E) -> Self {
        Self {
            class: e.class(),
            kind: e.kind().to_owned(),
            reason: chain(e),
            retry_after: e.retry_after(),
            dependency: e.dependency(),
        }
    }

    fn internal(kind: &str, reason: String) -> Self {
        Self { class: ErrorClass::Retryable, kind: kind.to_owned(), reason, retry_after: None, dependency: None }
    }
}

/// Runs an SQS batch through a step and settles every record (see the module docs).
pub struct BatchRunner<Q: QueueOps> {
    config: RunnerConfig,
    step: Arc<str>,
    queues: Arc<Q>,
}

impl<Q: QueueOps> BatchRunner<Q> {
    /// A runner that dead-letters and stretches visibility through `queues`.
    pub fn new(config: RunnerConfig, queues: Q) -> Self {
        let step: Arc<str> = Arc::from(config.step.as_str());
        Self { config, step, queues: Arc::new(queues) }
    }

    /// Its settings.
    pub fn config(&self) -> &RunnerConfig {
        &self.config
    }

    /// Handles one SQS event and answers with the records to retry.
    pub async fn run<D, S>(
        &self,
        event: SqsEvent,
        deadline: Option<DateTime<Utc>>,
        decoder: Arc<D>,
        step: Arc<S>,
    ) -> SqsBatchResponse
    where
        D: Decode,
        S: Step<D::Output>,
    {
        let settled = self.settle_all(event.records, deadline, decoder, step).await;
        let mut response = SqsBatchResponse::default();
        for (message_id, settlement) in settled {
            if settlement.is_failure() {
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = message_id;
                response.batch_item_failures.push(failure);
            }
        }
        response
    }

    /// Like [`BatchRunner::run`], but returns each record's settlement (tests, benches).
    pub async fn settle_all<D, S>(
        &self,
        records: Vec<SqsMessage>,
        deadline: Option<DateTime<Utc>>,
        decoder: Arc<D>,
        step: Arc<S>,
    ) -> Vec<(String, Settlement)>
    where
        D: Decode,
        S: Step<D::Output>,
    {
        m::batch_received(records.len());
        // A FIFO source is recognised by its ARN too, so ordering never depends on
        // a configuration flag someone forgot.
        let fifo = self.config.fifo
            || records.iter().any(|r| r.event_source_arn.as_deref().is_some_and(|arn| arn.ends_with(".fifo")));
        // Units of work: one record each, or one FIFO group (in order) each.
        let units: Vec<Vec<SqsMessage>> =
            if fifo { group_in_order(records) } else { records.into_iter().map(|r| vec![r]).collect() };
        let concurrency = self.config.concurrency.max(1);
        let results: Vec<Vec<(String, Settlement)>> = futures::stream::iter(units)
            .map(|unit| {
                let mut this = self.clone_parts();
                this.config.fifo = fifo;
                let decoder = decoder.clone();
                let step = step.clone();
                async move { this.process_unit(unit, deadline, decoder, step).await }
            })
            .buffer_unordered(concurrency)
            .collect()
            .await;
        results.into_iter().flatten().collect()
    }

    fn clone_parts(&self) -> Parts<Q> {
        Parts { config: self.config.clone(), step: self.step.clone(), queues: self.queues.clone() }
    }
}

/// What one unit of work needs: cheap clones of the runner's parts.
struct Parts<Q> {
    config: RunnerConfig,
    step: Arc<str>,
    queues: Arc<Q>,
}

impl<Q: QueueOps> Parts<Q> {
    async fn process_unit<D, S>(
        &self,
        unit: Vec<SqsMessage>,
        deadline: Option<DateTime<Utc>>,
        decoder: Arc<D>,
        step: Arc<S>,
    ) -> Vec<(String, Settlement)>
    where
        D: Decode,
        S: Step<D::Output>,
    {
        let mut out = Vec::with_capacity(unit.len());
        let mut group_failed = false;
        for record in unit {
            let message_id = record.message_id.clone().unwrap_or_default();
            if group_failed {
                m::record_failed("skipped_after_group_failure");
                out.push((message_id, Settlement::SkippedAfterGroupFailure));
                continue;
            }
            if self.budget(deadline).is_some_and(|left| left.is_zero()) {
                // Starting now would only get the whole batch killed at the deadline.
                warn!(message_id = %message_id, "not started: the invocation deadline is too close");
                m::record_failed("deadline");
                out.push((message_id, Settlement::NotStartedBeforeDeadline));
                group_failed = self.config.fifo;
                continue;
            }
            let settlement = self.process_record(record, deadline, decoder.clone(), step.clone()).await;
            if settlement.is_failure() {
                group_failed = self.config.fifo;
            }
            out.push((message_id, settlement));
        }
        out
    }

    /// Time a record may still run: until `deadline - margin` (None without a deadline).
    fn budget(&self, deadline: Option<DateTime<Utc>>) -> Option<std::time::Duration> {
        let deadline = deadline?;
        let left = (deadline - Utc::now()).to_std().unwrap_or_default();
        Some(left.saturating_sub(self.config.deadline_margin))
    }

    async fn process_record<D, S>(
        &self,
        record: SqsMessage,
        deadline: Option<DateTime<Utc>>,
        decoder: Arc<D>,
        step: Arc<S>,
    ) -> Settlement
    where
        D: Decode,
        S: Step<D::Output>,
    {
        let message_id = record.message_id.clone().unwrap_or_default();
        let receive_count = attribute(&record, "ApproximateReceiveCount").and_then(|v| v.parse().ok()).unwrap_or(1u32);
        let first_received_at = attribute(&record, "ApproximateFirstReceiveTimestamp")
            .and_then(|v| v.parse::<i64>().ok())
            .and_then(|ms| Utc.timestamp_millis_opt(ms).single());
        let group_id = attribute(&record, "MessageGroupId").map(str::to_owned);
        let sent_at = attribute(&record, "SentTimestamp")
            .and_then(|v| v.parse::<i64>().ok())
            .and_then(|ms| Utc.timestamp_millis_opt(ms).single());

        let decoded = decoder.decode(&record);
        let correlation_id = match &decoded {
            Ok(d) => d.correlation_id.clone(),
            Err(_) => message_id.clone(),
        };
        // ERROR level: the span (and so the correlation id) stays on every line even
        // when the function logs only warnings and errors.
        let span = error_span!(
            "record",
            step = %self.step,
            message_id = %message_id,
            correlation_id = %correlation_id,
            workflow_id = tracing::field::Empty,
            receive_count,
        );
        let ctx = RecordContext {
            step: self.step.clone(),
            message_id: message_id.clone(),
            correlation_id,
            workflow_id: decoded.as_ref().ok().and_then(|d| d.workflow_id.clone()),
            receive_count,
            first_received_at,
            group_id,
            deadline,
        };

        let result: Result<Outcome, Failure> = match decoded {
            Err(e) => Err(Failure::of(&e)),
            Ok(d) => {
                if let Some(w) = &d.workflow_id {
                    span.record("workflow_id", w.as_str());
                }
                run_isolated(step.clone(), ctx.clone(), d.input, self.budget(deadline)).instrument(span.clone()).await
            }
        };
        self.settle(&record, &ctx, sent_at, result, step).instrument(span).await
    }

    async fn settle<T, S: Step<T>>(
        &self,
        record: &SqsMessage,
        ctx: &RecordContext,
        sent_at: Option<DateTime<Utc>>,
        result: Result<Outcome, Failure>,
        step: Arc<S>,
    ) -> Settlement {
        let failure = match result {
            Ok(outcome) => {
                match outcome {
                    Outcome::Done => m::record_processed(),
                    Outcome::Duplicate => m::duplicate_skipped(),
                }
                info!(outcome = ?outcome, "record handled");
                return Settlement::Acknowledged(outcome);
            }
            Err(f) => f,
        };
        if failure.class == ErrorClass::Retryable {
            if let Some(dependency) = failure.dependency {
                m::dependency_failed(dependency);
            }
        }
        let reason = match self.give_up(ctx, sent_at, &failure) {
            None => return self.retry_later(record, ctx, failure).await,
            Some(reason) => reason,
        };
        let letter = DeadLetter {
            source_arn: record.event_source_arn.clone().unwrap_or_default(),
            message_id: ctx.message_id.clone(),
            body: record.body.clone().unwrap_or_default(),
            group_id: ctx.group_id.clone(),
            step: self.step.to_string(),
            kind: failure.kind.clone(),
            class: failure.class,
            reason,
            first_seen: ctx.first_received_at,
            receive_count: ctx.receive_count,
            correlation_id: ctx.correlation_id.clone(),
        };
        match self.bounded(ctx.deadline, self.queues.dead_letter(&letter)).await {
            Some(Ok(())) => {
                m::record_dead_lettered(&failure.kind);
                error!(error_kind = %failure.kind, error_class = %failure.class, reason = %letter.reason, "record sent to the dead-letter queue");
                let notice =
                    DeadLetterNotice { kind: failure.kind.clone(), class: failure.class, reason: letter.reason };
                match self.bounded(ctx.deadline, step.dead_lettered(ctx, &notice)).await {
                    Some(Ok(())) => {}
                    Some(Err(e)) => {
                        warn!(error = %chain(&e), "could not record the dead letter in the workflow's state")
                    }
                    None => warn!("could not record the dead letter in the workflow's state before the deadline"),
                }
                Settlement::DeadLettered { kind: failure.kind }
            }
            failed => {
                // Not acknowledged: it comes back, and the redrive policy still bounds it.
                let dlq_error = match failed {
                    Some(Err(e)) => chain(&e),
                    _ => "no answer before the invocation deadline".to_owned(),
                };
                error!(error_kind = %failure.kind, dlq_error = %dlq_error, "could not dead-letter the record; leaving it to retry");
                m::record_failed(&failure.kind);
                Settlement::Retry { kind: failure.kind }
            }
        }
    }

    /// Why the record goes to the DLQ now, or `None` to retry it: a permanent
    /// failure; the last receive the queue allows; or a wait that would outlive the
    /// queue's retention (SQS would delete the message before it came back).
    fn give_up(&self, ctx: &RecordContext, sent_at: Option<DateTime<Utc>>, failure: &Failure) -> Option<String> {
        if failure.class == ErrorClass::Permanent {
            return Some(failure.reason.clone());
        }
        if ctx.receive_count >= self.config.max_receive_count {
            return Some(format!("gave up after {} receives: {}", ctx.receive_count, failure.reason));
        }
        // Real time on both sides: a time scale compresses retry waits, never the
        // queue's retention, so the age is never scaled.
        let age = sent_at.and_then(|t| (Utc::now() - t).to_std().ok()).unwrap_or_default();
        let wait = self.wait_for(ctx, failure, 1.0);
        if self.config.policy.outlives_retention(age, wait) {
            return Some(format!(
                "gave up after {} receives: the next retry (in {} s) would come after the queue deletes the message: {}",
                ctx.receive_count,
                wait.as_secs(),
                failure.reason
            ));
        }
        None
    }

    /// The next wait: the policy's jittered backoff for this receive, but never less
    /// than the dependency's `Retry-After` (up to SQS's 12-hour limit).
    fn wait_for(&self, ctx: &RecordContext, failure: &Failure, unit: f64) -> std::time::Duration {
        let backoff = self.config.policy.backoff.delay(ctx.receive_count, unit);
        let asked = failure.retry_after.unwrap_or_default().min(MAX_RETRY_AFTER);
        backoff.max(asked)
    }

    async fn retry_later(&self, record: &SqsMessage, ctx: &RecordContext, failure: Failure) -> Settlement {
        let wait = self.wait_for(ctx, &failure, rand::random::<f64>());
        let secs = whole_seconds(wait);
        warn!(
            error_kind = %failure.kind,
            dependency = failure.dependency.unwrap_or(""),
            reason = %failure.reason,
            retry_in_secs = secs,
            "record failed; will retry"
        );
        m::record_failed(&failure.kind);
        if let (Some(arn), Some(receipt)) = (&record.event_source_arn, &record.receipt_handle) {
            match self.bounded(ctx.deadline, self.queues.extend_visibility(arn, receipt, secs)).await {
                Some(Ok(())) => {}
                // The record still comes back, after the queue's own visibility timeout.
                Some(Err(e)) => warn!(error = %chain(&e), "could not stretch the visibility timeout"),
                None => warn!("could not stretch the visibility timeout before the deadline"),
            }
        }
        Settlement::Retry { kind: failure.kind }
    }

    /// Runs one settle call within the time left before the deadline (less the
    /// reserve to answer), or within `settle_timeout` without a deadline. `None`:
    /// it did not finish in time (and was dropped).
    async fn bounded<F: Future>(&self, deadline: Option<DateTime<Utc>>, call: F) -> Option<F::Output> {
        let limit = match deadline {
            Some(d) => (d - Utc::now()).to_std().unwrap_or_default().saturating_sub(ANSWER_RESERVE),
            None => self.config.settle_timeout,
        };
        tokio::time::timeout(limit, call).await.ok()
    }
}

/// A wait in SQS's unit: whole seconds, rounded up, at least 1.
fn whole_seconds(d: std::time::Duration) -> i32 {
    let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    i32::try_from(secs.max(1)).unwrap_or(i32::MAX)
}

/// Runs the step on its own task so a panic is caught and stays with its record,
/// and stops it when its time `budget` runs out (the record is then retried: steps
/// are idempotent, so a half-done attempt is safe to repeat).
async fn run_isolated<T, S>(
    step: Arc<S>,
    ctx: RecordContext,
    input: T,
    budget: Option<std::time::Duration>,
) -> Result<Outcome, Failure>
where
    T: Send + 'static,
    S: Step<T>,
{
    let span = tracing::Span::current();
    let mut task = tokio::spawn(async move { step.handle(&ctx, input).await }.instrument(span));
    let joined = match budget {
        None => task.await,
        Some(budget) => match tokio::time::timeout(budget, &mut task).await {
            Ok(joined) => joined,
            Err(_) => {
                task.abort();
                return Err(Failure::internal(
                    "deadline",
                    format!("step did not finish within {} ms of the invocation deadline", budget.as_millis()),
                ));
            }
        },
    };
    match joined {
        Ok(Ok(outcome)) => Ok(outcome),
        Ok(Err(e)) => Err(Failure::of(&e)),
        Err(join) => {
            let reason = if join.is_panic() {
                let payload = join.into_panic();
                let text = payload
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "non-string panic".to_owned());
                format!("step panicked: {text}")
            } else {
                "step task was cancelled".to_owned()
            };
            // A panic is a bug, maybe a transient one: retry, and dead-letter with this
            // reason once the receives run out.
            Err(Failure::internal("panic", reason))
        }
    }
}

fn attribute<'a>(record: &'a SqsMessage, name: &str) -> Option<&'a str> {
    record.attributes.get(name).map(String::as_str)
}

/// Splits a FIFO batch into its message groups, keeping order within each group and
/// the groups in order of first appearance.
fn group_in_order(records: Vec<SqsMessage>) -> Vec<Vec<SqsMessage>> {
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut groups: Vec<Vec<SqsMessage>> = Vec::new();
    for r in records {
        let key = attribute(&r, "MessageGroupId").unwrap_or("").to_owned();
        match index.get(&key) {
            Some(&i) => groups[i].push(r),
            None => {
                index.insert(key, groups.len());
                groups.push(vec![r]);
            }
        }
    }
    groups
}

/// Serves a step as a Lambda function: the runtime loop, the deadline from the
/// invocation context, metrics flushed after every invocation.
pub async fn serve<Q, D, S>(runner: BatchRunner<Q>, decoder: D, step: S) -> Result<(), lambda_runtime::Error>
where
    Q: QueueOps,
    D: Decode,
    S: Step<D::Output>,
{
    let runner = Arc::new(runner);
    let decoder = Arc::new(decoder);
    let step = Arc::new(step);
    let handler = move |event: lambda_runtime::LambdaEvent<SqsEvent>| {
        let runner = runner.clone();
        let decoder = decoder.clone();
        let step = step.clone();
        async move {
            let deadline = Utc.timestamp_millis_opt(event.context.deadline as i64).single();
            let response = runner.run(event.payload, deadline, decoder, step).await;
            m::flush();
            Ok::<_, lambda_runtime::Error>(response)
        }
    };
    lambda_runtime::run(lambda_runtime::service_fn(handler)).await
}

/// Convenience for tests and benches: a `Step` from an async closure.
pub struct FnStep<F>(pub F);

#[async_trait]
impl<T, F, Fut, E> Step<T> for FnStep<F>
where
    T: Send + 'static,
    F: Fn(RecordContext, T) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Outcome, E>> + Send + 'static,
    E: Classify + std::error::Error + Send + Sync + 'static,
{
    type Error = E;
    async fn handle(&self, ctx: &RecordContext, input: T) -> Result<Outcome, E> {
        (self.0)(ctx.clone(), input).await
    }
}
