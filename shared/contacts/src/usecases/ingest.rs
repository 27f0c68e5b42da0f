//! ingest-connect-logs: cache every contact whose flow asked for a recording.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde::Serialize;
use tracing::{info, warn, Instrument};

use crate::contact::Contact;
use crate::error::ContactError;
use crate::flow_log::{recognise, Ignored};
use crate::ports::{Cached, ContactStore};
use crate::subscription;

/// Puts at once per invocation: a delivery holds up to ~10,000 events.
const WRITE_CONCURRENCY: usize = 8;

/// What one delivery held (the function's response, and its log line).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IngestSummary {
    pub log_events: usize,
    pub recording_requests: usize,
    pub cached: usize,
    pub already_cached: usize,
    pub ignored: usize,
}

/// Decodes the delivery, recognises recording requests and caches each contact
/// as INITIALISED (a conditional put: a replayed delivery changes nothing). A
/// malformed payload is a permanent error; a failed write fails the invocation,
/// and the retried delivery repeats only the writes that are missing.
pub async fn ingest<S: ContactStore>(
    store: &S,
    payload: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<IngestSummary, ContactError> {
    let data = subscription::decode(payload)?;
    let mut summary = IngestSummary { log_events: data.log_events.len(), ..IngestSummary::default() };
    if data.is_control() {
        info!("control message from CloudWatch Logs");
        return Ok(summary);
    }
    let mut seen = HashSet::new();
    let mut requests = Vec::new();
    for event in &data.log_events {
        match recognise(&event.message) {
            // The first recording block of a contact wins, as in the table.
            Ok(request) if seen.insert(request.contact_id.clone()) => requests.push(request),
            Ok(_) => summary.already_cached += 1,
            Err(Ignored::Unreadable) => {
                // The message may quote flow data: only its id is logged.
                warn!(log_event_id = %event.id, "recording block without a readable contact or instance id; not watched");
                summary.ignored += 1;
            }
            Err(_) => summary.ignored += 1,
        }
    }
    summary.recording_requests = requests.len();
    let results: Vec<_> = futures::stream::iter(requests)
        .map(|request| {
            let span = tracing::error_span!("contact", correlation_id = %request.contact_id);
            let contact = Contact::initialised(request, now);
            async move { store.initialise(&contact).await }.instrument(span)
        })
        .buffer_unordered(WRITE_CONCURRENCY)
        .collect()
        .await;
    let mut failure = None;
    for result in results {
        match result {
            Ok(Cached::Created) => summary.cached += 1,
            Ok(Cached::AlreadyCached) => summary.already_cached += 1,
            Err(e) => failure = Some(e),
        }
    }
    if let Some(e) = failure {
        return Err(e.into());
    }
    info!(
        log_group = %data.log_group,
        events = summary.log_events,
        cached = summary.cached,
        already_cached = summary.already_cached,
        ignored = summary.ignored,
        "flow logs ingested"
    );
    Ok(summary)
}
