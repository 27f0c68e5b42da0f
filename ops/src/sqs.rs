//! The SQS moves `ops` makes: look at messages without consuming them, and let
//! them go again.

use std::collections::HashMap;

use anyhow::Context as _;
use aws_sdk_sqs::types::{Message, MessageSystemAttributeName, QueueAttributeName};

/// A received message's parts `ops` uses.
#[derive(Debug, Clone)]
pub struct Peeked {
    pub message_id: String,
    pub receipt_handle: String,
    pub body: String,
    /// String message attributes (the kit's `error_reason`, `step`, … and the producer's).
    pub attributes: HashMap<String, String>,
    /// System attributes (`SentTimestamp`, `MessageGroupId`, …).
    pub system: HashMap<String, String>,
}

impl Peeked {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attributes.get(name).map(String::as_str)
    }

    /// When it was first sent to the DLQ (epoch ms).
    pub fn sent_ms(&self) -> Option<i64> {
        self.system.get("SentTimestamp")?.parse().ok()
    }
}

fn peeked(m: &Message) -> Peeked {
    Peeked {
        message_id: m.message_id().unwrap_or_default().to_owned(),
        receipt_handle: m.receipt_handle().unwrap_or_default().to_owned(),
        body: m.body().unwrap_or_default().to_owned(),
        attributes: m
            .message_attributes()
            .map(|a| a.iter().filter_map(|(k, v)| Some((k.clone(), v.string_value()?.to_owned()))).collect())
            .unwrap_or_default(),
        system: m
            .attributes()
            .map(|a| a.iter().map(|(k, v)| (k.as_str().to_owned(), v.clone())).collect())
            .unwrap_or_default(),
    }
}

pub async fn queue_url(sqs: &aws_sdk_sqs::Client, name: &str) -> anyhow::Result<String> {
    let out = sqs.get_queue_url().queue_name(name).send().await.with_context(|| format!("GetQueueUrl {name}"))?;
    out.queue_url.with_context(|| format!("no URL for {name}"))
}

/// Depth: visible and in flight.
pub async fn depth(sqs: &aws_sdk_sqs::Client, url: &str) -> anyhow::Result<(u64, u64)> {
    let out = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .context("GetQueueAttributes")?;
    let get = |k: QueueAttributeName| {
        out.attributes().and_then(|a| a.get(&k)).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
    };
    Ok((
        get(QueueAttributeName::ApproximateNumberOfMessages),
        get(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
    ))
}

/// Receives up to `limit` messages, holding each invisible for `hold_secs`; stops at
/// the first empty receive. Callers release what they do not delete.
pub async fn receive_up_to(
    sqs: &aws_sdk_sqs::Client,
    url: &str,
    limit: usize,
    hold_secs: i32,
) -> anyhow::Result<Vec<Peeked>> {
    let mut out: Vec<Peeked> = Vec::new();
    while out.len() < limit {
        let want = (limit - out.len()).min(10) as i32;
        let got = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(want)
            .visibility_timeout(hold_secs)
            .message_attribute_names("All")
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .wait_time_seconds(0)
            .send()
            .await
            .context("ReceiveMessage")?;
        let messages = got.messages();
        if messages.is_empty() {
            break;
        }
        for m in messages {
            // A message seen twice (its hold ran out mid-scan) counts once.
            if !out.iter().any(|p| p.message_id == m.message_id().unwrap_or_default()) {
                out.push(peeked(m));
            }
        }
    }
    Ok(out)
}

/// One receive of up to 10 messages, held for `hold_secs`, waiting up to `wait_secs`
/// for one to arrive (a long poll: an empty answer means none came in that time,
/// not that the queue is empty — SQS samples its servers on a short poll).
pub async fn receive_batch(
    sqs: &aws_sdk_sqs::Client,
    url: &str,
    hold_secs: i32,
    wait_secs: i32,
) -> anyhow::Result<Vec<Peeked>> {
    let got = sqs
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(10)
        .visibility_timeout(hold_secs)
        .message_attribute_names("All")
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .wait_time_seconds(wait_secs)
        .send()
        .await
        .context("ReceiveMessage")?;
    Ok(got.messages().iter().map(peeked).collect())
}

/// Makes messages visible again at once. Goes through all of them: one whose hold
/// already ran out (a stale receipt handle) is visible anyway.
pub async fn release(sqs: &aws_sdk_sqs::Client, url: &str, messages: &[Peeked]) -> anyhow::Result<()> {
    let mut first_error = None;
    for m in messages {
        let result = sqs
            .change_message_visibility()
            .queue_url(url)
            .receipt_handle(&m.receipt_handle)
            .visibility_timeout(0)
            .send()
            .await;
        if let Err(e) = result {
            first_error.get_or_insert(e);
        }
    }
    match first_error {
        Some(e) => Err(e).context("ChangeMessageVisibility"),
        None => Ok(()),
    }
}

/// Looks at up to `limit` messages and puts them back.
pub async fn peek(sqs: &aws_sdk_sqs::Client, url: &str, limit: usize) -> anyhow::Result<Vec<Peeked>> {
    let messages = receive_up_to(sqs, url, limit, 30).await?;
    release(sqs, url, &messages).await?;
    Ok(messages)
}
