//! `ops dlq show`: what is in one DLQ and why. Bodies are not shown: they may hold
//! personal data; the kit's reasons never quote input, and are redacted again here.

use kit::queue::attr;

use crate::redact::redact;
use crate::sqs::{peek, queue_url, Peeked};
use crate::stack::QueueInfo;

/// One dead letter as shown.
#[derive(Debug, Clone)]
pub struct Letter {
    pub message_id: String,
    pub step: String,
    pub kind: String,
    pub reason: String,
    pub first_seen: String,
    pub receive_count: String,
    pub correlation_id: String,
}

pub fn letter(m: &Peeked) -> Letter {
    let get = |k: &str| m.attr(k).map(redact).unwrap_or_else(|| "-".to_owned());
    Letter {
        message_id: m.message_id.clone(),
        step: get(attr::STEP),
        kind: get(attr::KIND),
        reason: m
            .attr(attr::REASON)
            .map(redact)
            .unwrap_or_else(|| "(moved by the redrive policy: crash or timeout, no reason recorded)".to_owned()),
        first_seen: get(attr::FIRST_SEEN),
        receive_count: m
            .attr(attr::RECEIVE_COUNT)
            .map(str::to_owned)
            .or_else(|| m.system.get("ApproximateReceiveCount").cloned())
            .unwrap_or_else(|| "-".to_owned()),
        correlation_id: get(attr::CORRELATION_ID),
    }
}

pub async fn show(sqs: &aws_sdk_sqs::Client, dlq: &QueueInfo, limit: usize) -> anyhow::Result<Vec<Letter>> {
    let url = queue_url(sqs, &dlq.name).await?;
    Ok(peek(sqs, &url, limit).await?.iter().map(letter).collect())
}
