//! The scheduled events in, the sweep or the flow-log watch, the summary out.
//!
//! Two schedules invoke this function: the five-minute sweep (EventBridge's
//! Scheduled Event, or an on-demand invoke with any payload) and, in business
//! hours only, the flow-log watch (`{"watch": "flow-logs"}`, the schedule's input).
//! A failed sweep or watch fails the invocation: EventBridge's async invoke retries
//! it, and a repeated sweep only re-sends checks the steps treat as done (polls
//! are claimed, so never twice).

use chrono::{DateTime, Utc};
use contacts::ports::{FlowLogHeartbeat, PendingContacts, WorkQueue};
use contacts::usecases::{sweep, watch_flow_logs, SweepSettings, WatchSettings};
use kit::Classify;
use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde_json::Value;
use tracing::{error, Instrument};

pub const FUNCTION: &str = "recording-sweep";

pub struct Parts<P, Q, C> {
    pub store: P,
    pub poll_queue: Q,
    pub check_queue: C,
    pub sweep: SweepSettings,
    pub watch: WatchSettings,
}

#[derive(Debug)]
pub struct Failed(pub contacts::ContactError);

impl From<Failed> for Diagnostic {
    fn from(failed: Failed) -> Self {
        Diagnostic { error_type: failed.0.kind().to_owned(), error_message: kit::error::chain(&failed.0) }
    }
}

/// The sweep's name: the schedule's `time` (`2026-01-01T10:05:00Z`), else the
/// invocation's minute (an on-demand invoke with any payload).
pub fn slot(event: &Value, now: DateTime<Utc>) -> String {
    event
        .get("time")
        .and_then(Value::as_str)
        .and_then(contacts::time::parse)
        .unwrap_or(now)
        .format("%Y-%m-%dT%H:%MZ")
        .to_string()
}

/// Whether this invocation is the flow-log watch's.
pub fn is_watch(event: &Value) -> bool {
    event.get("watch").and_then(Value::as_str) == Some("flow-logs")
}

pub async fn handle<P, Q, C>(parts: &Parts<P, Q, C>, event: LambdaEvent<Value>) -> Result<Value, Failed>
where
    P: PendingContacts + FlowLogHeartbeat,
    Q: WorkQueue,
    C: WorkQueue,
{
    let now = Utc::now();
    let (span, result) = if is_watch(&event.payload) {
        let span = tracing::error_span!("flow_log_watch", request_id = %event.context.request_id);
        let report = watch_flow_logs(&parts.store, &parts.watch, now).instrument(span.clone()).await;
        (span, report.map(|r| serde_json::to_value(r).unwrap_or_default()))
    } else {
        let slot = slot(&event.payload, now);
        let span = tracing::error_span!("sweep", request_id = %event.context.request_id, correlation_id = %slot);
        let summary = sweep(&parts.store, &parts.poll_queue, &parts.check_queue, &parts.sweep, &slot, now)
            .instrument(span.clone())
            .await;
        (span, summary.map(|s| serde_json::to_value(s).unwrap_or_default()))
    };
    kit::metrics::flush();
    result.map_err(|e| {
        span.in_scope(|| error!(error_kind = e.kind(), reason = %kit::error::chain(&e), "failed"));
        Failed(e)
    })
}

pub async fn serve<P, Q, C>(parts: Parts<P, Q, C>) -> Result<(), lambda_runtime::Error>
where
    P: PendingContacts + FlowLogHeartbeat,
    Q: WorkQueue,
    C: WorkQueue,
{
    let parts = &parts;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move { handle(parts, event).await })).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use contacts::flow_log::FlowRecordingSetting;
    use contacts::testing::{MemoryContactStore, RecordingQueue};
    use contacts::{Contact, ContactId, InstanceId};
    use serde_json::json;

    fn parts() -> Parts<MemoryContactStore, RecordingQueue, RecordingQueue> {
        Parts {
            store: MemoryContactStore::default(),
            poll_queue: RecordingQueue::default(),
            check_queue: RecordingQueue::default(),
            sweep: SweepSettings::for_rate(2.0),
            watch: WatchSettings { silence: std::time::Duration::from_secs(1800) },
        }
    }

    #[test]
    fn the_slot_is_the_schedules_mark() {
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 10, 7, 31).single().unwrap();
        assert_eq!(
            slot(&json!({"time": "2026-01-01T10:05:00Z", "detail-type": "Scheduled Event"}), now),
            "2026-01-01T10:05Z"
        );
        assert_eq!(slot(&json!({}), now), "2026-01-01T10:07Z");
    }

    #[tokio::test]
    async fn a_scheduled_event_sends_initialised_contacts_to_poll() {
        let parts = parts();
        let requested = FlowRecordingSetting {
            contact_id: ContactId::parse("1c0ffee0-0003-4003-8003-000000000001").unwrap(),
            instance_id: InstanceId::parse("5e7c0a11-0003-4003-8003-00000000c0a1").unwrap(),
            at: None,
            participants: vec!["Agent".into()],
            analytics: false,
        };
        parts.store.put(Contact::initialised(requested, Utc::now()));
        let scheduled: Value =
            serde_json::from_str(include_str!("../../../events/recording-sweep/scheduled-event.json")).unwrap();
        let event = LambdaEvent::new(scheduled, lambda_runtime::Context::default());
        let summary = handle(&parts, event).await.unwrap();
        assert_eq!(summary["to_poll"], 1);
        let sent = parts.poll_queue.sent();
        assert_eq!(sent[0]["type"], "contact.poll");
        assert_eq!(sent[0]["id"], "contact.poll:1c0ffee0-0003-4003-8003-000000000001:2026-01-01T10:05Z");
    }

    #[tokio::test]
    async fn the_watch_schedules_input_runs_the_flow_log_watch() {
        let parts = parts();
        let input: Value =
            serde_json::from_str(include_str!("../../../events/recording-sweep/flow-log-watch.json")).unwrap();
        let event = LambdaEvent::new(input, lambda_runtime::Context::default());
        let report = handle(&parts, event).await.unwrap();
        assert_eq!(report["silent"], false, "{report}");
        assert_eq!(report["silence_secs"], 1800);
        assert!(parts.poll_queue.sent().is_empty(), "no sweep");
    }
}
