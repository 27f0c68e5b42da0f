//! The SQS event source mapping: long-polls a queue, hands batches to the
//! function, deletes what succeeded, and leaves failures to the visibility
//! timeout (and so, eventually, to the redrive policy).

use std::time::Duration;

use aws_sdk_sqs::error::{DisplayErrorContext, SdkError};
use aws_sdk_sqs::operation::receive_message::ReceiveMessageError;
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, MessageSystemAttributeName};
use aws_sdk_sqs::Client;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use super::sqs_event::{reported_failures, sqs_event, ReceivedMessage};
use crate::fault_proxy::counter::{ESM_DELETE_BATCH, ESM_RECEIVE, ESM_RECEIVE_NON_EMPTY};
use crate::fault_proxy::RequestCounter;
use crate::lambda::{InvokeOutcome, Invoker};
use crate::template::SqsSourceSpec;

/// ReceiveMessage returns at most 10 messages per call.
const MAX_PER_RECEIVE: u32 = 10;
/// Pause after an emulator error, so a stopped emulator is not hammered.
const ERROR_PAUSE: Duration = Duration::from_secs(1);

/// One event source mapping.
#[derive(Debug, Clone)]
pub struct SqsPoller {
    pub function: String,
    pub queue_url: String,
    pub region: String,
    pub spec: SqsSourceSpec,
    /// Where this mapping's own SQS calls are counted (`ESM:` keys).
    pub requests: RequestCounter,
}

impl SqsPoller {
    /// Polls until `cancel`. With one process per function, batches are
    /// handed over one at a time (MaximumConcurrency is at least 2 on AWS,
    /// so this is within what it allows).
    pub async fn run(self, sqs: Client, invoker: Invoker, cancel: CancellationToken) {
        info!(function = %self.function, queue = %self.spec.queue_arn, batch_size = self.spec.batch_size, "SQS event source started");
        loop {
            let batch = tokio::select! {
                batch = self.receive_batch(&sqs) => batch,
                () = cancel.cancelled() => break,
            };
            let batch = match batch {
                Ok(b) => b,
                Err(err) => {
                    let detail = DisplayErrorContext(&err).to_string();
                    warn!(function = %self.function, %detail, "ReceiveMessage failed");
                    tokio::select! {
                        () = tokio::time::sleep(ERROR_PAUSE) => continue,
                        () = cancel.cancelled() => break,
                    }
                }
            };
            if batch.is_empty() {
                continue;
            }
            let event = sqs_event(&batch, &self.spec.queue_arn, &self.region);
            let outcome = tokio::select! {
                outcome = invoker.invoke(&self.function, event) => outcome,
                () = cancel.cancelled() => break,
            };
            let delete: Vec<&ReceivedMessage> = match outcome {
                Ok(InvokeOutcome::Ok(response)) => self.succeeded(&batch, &response),
                Ok(InvokeOutcome::FunctionError(error)) => {
                    warn!(function = %self.function, records = batch.len(), %error, "batch failed; records return after the visibility timeout");
                    Vec::new()
                }
                Err(e) => {
                    warn!(function = %self.function, error = %e, "cannot invoke; stopping this event source");
                    break;
                }
            };
            self.delete(&sqs, &delete).await;
        }
        debug!(function = %self.function, "SQS event source stopped");
    }

    /// Records to delete after a successful invocation.
    fn succeeded<'a>(&self, batch: &'a [ReceivedMessage], response: &serde_json::Value) -> Vec<&'a ReceivedMessage> {
        if !self.spec.report_batch_item_failures {
            return batch.iter().collect();
        }
        match reported_failures(response, batch) {
            Some(failed) => {
                if !failed.is_empty() {
                    info!(function = %self.function, failed = failed.len(), of = batch.len(), "partial batch failure");
                }
                batch.iter().filter(|m| !failed.contains(&m.message_id)).collect()
            }
            None => {
                warn!(function = %self.function, "invalid batchItemFailures; the whole batch fails");
                Vec::new()
            }
        }
    }

    /// Receives up to BatchSize messages, waiting up to the batching window
    /// for more once the first arrive.
    async fn receive_batch(&self, sqs: &Client) -> Result<Vec<ReceivedMessage>, SdkError<ReceiveMessageError>> {
        let wanted = self.spec.batch_size.max(1) as usize;
        let mut batch = self.receive(sqs, wanted, 1).await?;
        if batch.is_empty() || self.spec.batching_window.is_zero() {
            return Ok(batch);
        }
        let deadline = Instant::now() + self.spec.batching_window;
        while batch.len() < wanted {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                break;
            }
            let wait = i32::try_from(remaining.as_secs().min(1)).unwrap_or(1);
            let more = self.receive(sqs, wanted - batch.len(), wait).await?;
            if more.is_empty() && wait == 0 {
                break;
            }
            batch.extend(more);
        }
        Ok(batch)
    }

    async fn receive(
        &self,
        sqs: &Client,
        wanted: usize,
        wait_secs: i32,
    ) -> Result<Vec<ReceivedMessage>, SdkError<ReceiveMessageError>> {
        let max = i32::try_from(wanted.min(MAX_PER_RECEIVE as usize)).unwrap_or(10);
        self.requests.add(ESM_RECEIVE);
        let out = sqs
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(max)
            .wait_time_seconds(wait_secs)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await?;
        if !out.messages().is_empty() {
            self.requests.add(ESM_RECEIVE_NON_EMPTY);
        }
        Ok(out.messages().iter().map(ReceivedMessage::from_sdk).collect())
    }

    async fn delete(&self, sqs: &Client, messages: &[&ReceivedMessage]) {
        for chunk in messages.chunks(MAX_PER_RECEIVE as usize) {
            let entries: Vec<DeleteMessageBatchRequestEntry> = chunk
                .iter()
                .enumerate()
                .filter_map(|(i, m)| {
                    DeleteMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .receipt_handle(&m.receipt_handle)
                        .build()
                        .ok()
                })
                .collect();
            self.requests.add(ESM_DELETE_BATCH);
            let result = sqs.delete_message_batch().queue_url(&self.queue_url).set_entries(Some(entries)).send().await;
            match result {
                Ok(out) if !out.failed().is_empty() => {
                    warn!(function = %self.function, failed = out.failed().len(), "some deletes failed; those records will be redelivered");
                }
                Ok(_) => {}
                Err(e) => {
                    let detail = DisplayErrorContext(&e).to_string();
                    warn!(function = %self.function, %detail, "DeleteMessageBatch failed; the batch will be redelivered");
                }
            }
        }
    }
}
