//! What the batch runner needs from SQS besides the event itself: stretching a
//! record's visibility (backoff) and dead-lettering it with its reason.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use aws_sdk_sqs::types::MessageAttributeValue;
use chrono::{DateTime, SecondsFormat, Utc};

use crate::error::{Classify, ErrorClass};
use crate::sdk::{classify_sdk_error, SdkFailure};

/// Message attribute names the kit writes on every dead letter (the `ops` tool reads them).
pub mod attr {
    /// Why, in words (never input values).
    pub const REASON: &str = "error_reason";
    /// The error's kind.
    pub const KIND: &str = "error_kind";
    /// `permanent` or `retryable`.
    pub const CLASS: &str = "error_class";
    /// The step that gave up.
    pub const STEP: &str = "step";
    /// When SQS first handed the message over.
    pub const FIRST_SEEN: &str = "first_seen";
    /// Receives so far.
    pub const RECEIVE_COUNT: &str = "receive_count";
    /// The correlation id.
    pub const CORRELATION_ID: &str = "correlation_id";
    /// The queue the message came from (for redrive).
    pub const SOURCE_QUEUE: &str = "source_queue";
    /// The message's id on its source queue.
    pub const ORIGINAL_MESSAGE_ID: &str = "original_message_id";
}

/// SQS allows 256 KiB per attribute value, but a reason is for people: keep it short.
const MAX_REASON_CHARS: usize = 1000;

/// A record that will not be retried, with why.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadLetter {
    /// The source queue.
    pub source_arn: String,
    /// The message's id.
    pub message_id: String,
    /// The original body, unchanged (so a fixed message can be redriven).
    pub body: String,
    /// The FIFO group, on a FIFO queue.
    pub group_id: Option<String>,
    /// The step that gave up.
    pub step: String,
    /// The error's kind.
    pub kind: String,
    /// The error's class.
    pub class: ErrorClass,
    /// Why, in words.
    pub reason: String,
    /// When SQS first handed it over.
    pub first_seen: Option<DateTime<Utc>>,
    /// Receives so far.
    pub receive_count: u32,
    /// The correlation id.
    pub correlation_id: String,
}

impl DeadLetter {
    /// The attributes as (name, value) pairs, reason truncated on a char boundary.
    pub fn attributes(&self) -> Vec<(&'static str, String)> {
        let mut reason: String = self.reason.chars().take(MAX_REASON_CHARS).collect();
        if reason.is_empty() {
            reason.push_str("(no reason given)");
        }
        let mut out = vec![
            (attr::REASON, reason),
            (attr::KIND, self.kind.clone()),
            (attr::CLASS, self.class.as_str().to_owned()),
            (attr::STEP, self.step.clone()),
            (attr::RECEIVE_COUNT, self.receive_count.to_string()),
            (attr::SOURCE_QUEUE, self.source_arn.clone()),
            (attr::ORIGINAL_MESSAGE_ID, self.message_id.clone()),
        ];
        if let Some(t) = self.first_seen {
            out.push((attr::FIRST_SEEN, t.to_rfc3339_opts(SecondsFormat::Millis, true)));
        }
        if !self.correlation_id.is_empty() {
            out.push((attr::CORRELATION_ID, self.correlation_id.clone()));
        }
        // SQS attribute values must be non-empty.
        out.retain(|(_, v)| !v.is_empty());
        out
    }
}

/// An SQS call of the runner failed.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// A source ARN that is no SQS queue ARN.
    #[error("queue ARN {0:?} is not an SQS queue ARN")]
    BadArn(String),
    /// SQS failed.
    #[error("SQS {operation} failed: {failure}")]
    Sqs {
        /// The API operation.
        operation: &'static str,
        /// The classified SDK failure.
        failure: SdkFailure,
    },
}

impl Classify for QueueError {
    fn class(&self) -> ErrorClass {
        match self {
            QueueError::BadArn(_) => ErrorClass::Permanent,
            QueueError::Sqs { failure, .. } => failure.class,
        }
    }
    fn kind(&self) -> &'static str {
        match self {
            QueueError::BadArn(_) => "bad_queue_arn",
            QueueError::Sqs { .. } => "sqs_error",
        }
    }
}

/// The batch runner's port to SQS.
#[async_trait]
pub trait QueueOps: Send + Sync + 'static {
    /// Keeps the record away for `secs` seconds (its backoff).
    async fn extend_visibility(&self, source_arn: &str, receipt_handle: &str, secs: i32) -> Result<(), QueueError>;
    /// Sends `letter` to the source queue's DLQ, with its reason as attributes.
    async fn dead_letter(&self, letter: &DeadLetter) -> Result<(), QueueError>;
}

/// `arn:aws:sqs:eu-west-2:123456789012:name` → (account, name).
pub fn parse_queue_arn(arn: &str) -> Option<(&str, &str)> {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(_partition), Some("sqs"), Some(_region), Some(account), Some(name)) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    (!name.is_empty()).then_some((account, name))
}

/// The longest one settle-phase SQS call may take (the runner's own bound, the
/// time left before the deadline, is usually shorter).
pub const SETTLE_CALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

/// The SQS adapter. Queue URLs are looked up once per ARN (`GetQueueUrl`), so the
/// same code works against AWS and the emulator, whose URL formats differ.
pub struct SqsQueues {
    client: aws_sdk_sqs::Client,
    dead_letter_url: String,
    urls: Mutex<HashMap<String, String>>,
}

impl SqsQueues {
    /// The adapter makes one attempt per call, each bounded by [`SETTLE_CALL_TIMEOUT`]:
    /// it runs in the settle phase, where the runner bounds the whole phase by the
    /// invocation deadline, and an SDK retry there would only spend the margin.
    pub fn new(client: aws_sdk_sqs::Client, dead_letter_url: impl Into<String>) -> Self {
        let config = client
            .config()
            .to_builder()
            .retry_config(aws_sdk_sqs::config::retry::RetryConfig::disabled())
            .timeout_config(
                aws_sdk_sqs::config::timeout::TimeoutConfig::builder().operation_timeout(SETTLE_CALL_TIMEOUT).build(),
            )
            .build();
        Self {
            client: aws_sdk_sqs::Client::from_conf(config),
            dead_letter_url: dead_letter_url.into(),
            urls: Mutex::new(HashMap::new()),
        }
    }

    async fn url_for(&self, arn: &str) -> Result<String, QueueError> {
        if let Some(url) = self.urls.lock().unwrap_or_else(|p| p.into_inner()).get(arn) {
            return Ok(url.clone());
        }
        let (account, name) = parse_queue_arn(arn).ok_or_else(|| QueueError::BadArn(arn.to_owned()))?;
        let out = self
            .client
            .get_queue_url()
            .queue_name(name)
            .queue_owner_aws_account_id(account)
            .send()
            .await
            .map_err(|e| QueueError::Sqs { operation: "GetQueueUrl", failure: classify_sdk_error(&e) })?;
        let url = out.queue_url.unwrap_or_default();
        self.urls.lock().unwrap_or_else(|p| p.into_inner()).insert(arn.to_owned(), url.clone());
        Ok(url)
    }
}

fn string_attr(value: String) -> Result<MessageAttributeValue, QueueError> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .map_err(|e| QueueError::Sqs { operation: "SendMessage", failure: SdkFailure::permanent(e.to_string()) })
}

#[async_trait]
impl QueueOps for SqsQueues {
    async fn extend_visibility(&self, source_arn: &str, receipt_handle: &str, secs: i32) -> Result<(), QueueError> {
        let url = self.url_for(source_arn).await?;
        self.client
            .change_message_visibility()
            .queue_url(url)
            .receipt_handle(receipt_handle)
            .visibility_timeout(secs)
            .send()
            .await
            .map_err(|e| QueueError::Sqs { operation: "ChangeMessageVisibility", failure: classify_sdk_error(&e) })?;
        Ok(())
    }

    async fn dead_letter(&self, letter: &DeadLetter) -> Result<(), QueueError> {
        let mut req = self.client.send_message().queue_url(&self.dead_letter_url).message_body(&letter.body);
        for (name, value) in letter.attributes() {
            req = req.message_attributes(name, string_attr(value)?);
        }
        if self.dead_letter_url.ends_with(".fifo") {
            // A FIFO source has a FIFO DLQ: keep the group, and let a resend after a
            // crash dedupe on the original message id.
            req = req
                .message_group_id(letter.group_id.clone().unwrap_or_else(|| "dead-letters".to_owned()))
                .message_deduplication_id(&letter.message_id);
        }
        req.send().await.map_err(|e| QueueError::Sqs { operation: "SendMessage", failure: classify_sdk_error(&e) })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_queue_arns() {
        assert_eq!(
            parse_queue_arn("arn:aws:sqs:eu-west-2:123456789012:login-events"),
            Some(("123456789012", "login-events"))
        );
        assert_eq!(parse_queue_arn("arn:aws:sns:eu-west-2:1:t"), None);
        assert_eq!(parse_queue_arn("nope"), None);
    }

    #[test]
    fn dead_letter_attributes_carry_reason_kind_step_and_first_seen() {
        let letter = DeadLetter {
            source_arn: "arn:aws:sqs:eu-west-2:1:q".into(),
            message_id: "m".into(),
            body: "{}".into(),
            group_id: None,
            step: "record-login".into(),
            kind: "invalid_input".into(),
            class: ErrorClass::Permanent,
            reason: "x".repeat(5000),
            first_seen: Some("2024-01-02T03:04:05Z".parse().unwrap()),
            receive_count: 1,
            correlation_id: String::new(),
        };
        let attrs: HashMap<_, _> = letter.attributes().into_iter().collect();
        assert_eq!(attrs[attr::REASON].chars().count(), MAX_REASON_CHARS);
        assert_eq!(attrs[attr::KIND], "invalid_input");
        assert_eq!(attrs[attr::CLASS], "permanent");
        assert_eq!(attrs[attr::STEP], "record-login");
        assert_eq!(attrs[attr::FIRST_SEEN], "2024-01-02T03:04:05.000Z");
        assert!(!attrs.contains_key(attr::CORRELATION_ID), "empty values are dropped");
        assert!(attrs.len() <= 10, "SQS allows at most 10 message attributes");
    }
}
