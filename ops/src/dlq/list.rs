//! `ops dlq list`: every DLQ of the stack at a glance.

use std::collections::BTreeMap;

use kit::queue::attr;

use crate::sqs::{depth, peek, queue_url};
use crate::stack::StackMap;

/// Messages looked at per DLQ to find the oldest and the top reasons.
const SAMPLE: usize = 100;

#[derive(Debug, Clone)]
pub struct DlqSummary {
    pub name: String,
    pub source: Option<String>,
    pub visible: u64,
    pub in_flight: u64,
    /// Age of the oldest message sampled.
    pub oldest: Option<chrono::Duration>,
    /// `(error_kind, count)`, most frequent first, from up to 100 messages.
    pub top_kinds: Vec<(String, usize)>,
}

pub async fn list(sqs: &aws_sdk_sqs::Client, map: &StackMap) -> anyhow::Result<Vec<DlqSummary>> {
    let mut out = Vec::new();
    for dlq in map.dlqs() {
        let url = queue_url(sqs, &dlq.name).await?;
        let (visible, in_flight) = depth(sqs, &url).await?;
        let sample = if visible > 0 { peek(sqs, &url, SAMPLE).await? } else { Vec::new() };
        let now = chrono::Utc::now().timestamp_millis();
        let oldest = sample.iter().filter_map(|m| m.sent_ms()).min().map(|ms| chrono::Duration::milliseconds(now - ms));
        let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
        for m in &sample {
            *kinds.entry(m.attr(attr::KIND).unwrap_or("(no reason: redrive policy)").to_owned()).or_default() += 1;
        }
        let mut top_kinds: Vec<(String, usize)> = kinds.into_iter().collect();
        top_kinds.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        top_kinds.truncate(3);
        out.push(DlqSummary {
            name: dlq.name.clone(),
            source: map.source_of(dlq).map(|s| s.name.clone()),
            visible,
            in_flight,
            oldest,
            top_kinds,
        });
    }
    Ok(out)
}
