//! ingest-connect-logs: keep every recording setting a contact's flows logged.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde::Serialize;
use tracing::{info, warn, Instrument};

use crate::contact::{Contact, ContactId, InstanceId};
use crate::error::ContactError;
use crate::expectation::RecordingSetting;
use crate::flow_log::{recognise, Ignored};
use crate::ports::{Cached, ContactStore, FlowLogHeartbeat};
use crate::subscription;

/// Writes at once per invocation: a delivery holds up to ~10,000 events.
const WRITE_CONCURRENCY: usize = 8;

/// What one delivery held (the function's response, and its log line).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IngestSummary {
    pub log_events: usize,
    /// Lines of recording blocks (turning recording on or off).
    pub recording_settings: usize,
    /// Contacts those lines were about.
    pub contacts: usize,
    /// Contacts seen for the first time.
    pub cached: usize,
    /// Contacts cached before that gained settings.
    pub updated: usize,
    /// Contacts that held every setting already (a replayed delivery).
    pub already_cached: usize,
    pub ignored: usize,
}

/// Decodes the delivery, reads every recording setting (on or off, each timed by
/// its own line) and keeps them on the contact's item: a new contact is put as
/// INITIALISED, a known one gains the settings it lacked (a set: replays and the
/// order deliveries arrive in change nothing). Then notes the delivery on the
/// heartbeat the flow-log watch reads. A malformed payload is a permanent error;
/// a failed write fails the invocation, and the retried delivery repeats only the
/// writes that are missing.
pub async fn ingest<S: ContactStore + FlowLogHeartbeat>(
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
    crate::metrics::flow_log_delivery(data.log_events.len());
    let mut contacts: BTreeMap<ContactId, (InstanceId, Vec<RecordingSetting>)> = BTreeMap::new();
    for event in &data.log_events {
        match recognise(&event.message) {
            Ok(line) => {
                summary.recording_settings += 1;
                // The line's own Timestamp; else when CloudWatch Logs received it.
                let fallback = DateTime::from_timestamp_millis(event.timestamp).unwrap_or(now);
                let setting = line.setting(fallback);
                contacts.entry(line.contact_id).or_insert_with(|| (line.instance_id, Vec::new())).1.push(setting);
            }
            Err(Ignored::Unreadable) => {
                // The message may quote flow data: only its id is logged.
                warn!(log_event_id = %event.id, "recording block without a readable contact or instance id; not watched");
                summary.ignored += 1;
            }
            Err(_) => summary.ignored += 1,
        }
    }
    summary.contacts = contacts.len();
    let results: Vec<_> = futures::stream::iter(contacts)
        .map(|(contact_id, (instance_id, settings))| {
            let span = tracing::error_span!("contact", correlation_id = %contact_id);
            let contact = Contact::from_settings(contact_id, instance_id, settings, now);
            async move { store.initialise(&contact).await }.instrument(span)
        })
        .buffer_unordered(WRITE_CONCURRENCY)
        .collect()
        .await;
    let mut failure = None;
    for result in results {
        match result {
            Ok(Cached::Created) => summary.cached += 1,
            Ok(Cached::Updated) => summary.updated += 1,
            Ok(Cached::AlreadyCached) => summary.already_cached += 1,
            Err(e) => failure = Some(e),
        }
    }
    if let Some(e) = failure {
        return Err(e.into());
    }
    store.delivered(&data.log_group, now).await?;
    info!(
        log_group = %data.log_group,
        events = summary.log_events,
        recording_settings = summary.recording_settings,
        cached = summary.cached,
        updated = summary.updated,
        already_cached = summary.already_cached,
        ignored = summary.ignored,
        "flow logs ingested"
    );
    Ok(summary)
}
