//! The scheduled event in, the sweep, the summary out. A failed sweep fails the
//! invocation: EventBridge's async invoke retries it, and a repeated sweep only
//! re-sends work the steps treat as already done.

use chrono::{DateTime, Utc};
use contacts::ports::{PendingContacts, WorkQueue};
use contacts::usecases::{sweep, SweepSummary};
use kit::Classify;
use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde_json::Value;
use tracing::{error, Instrument};

pub const FUNCTION: &str = "recording-sweep";

pub struct Parts<P, Q, C> {
    pub store: P,
    pub poll_queue: Q,
    pub check_queue: C,
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

pub async fn handle<P: PendingContacts, Q: WorkQueue, C: WorkQueue>(
    parts: &Parts<P, Q, C>,
    event: LambdaEvent<Value>,
) -> Result<SweepSummary, Failed> {
    let slot = slot(&event.payload, Utc::now());
    let span = tracing::error_span!("sweep", request_id = %event.context.request_id, correlation_id = %slot);
    let result = sweep(&parts.store, &parts.poll_queue, &parts.check_queue, &slot).instrument(span.clone()).await;
    kit::metrics::flush();
    result.map_err(|e| {
        span.in_scope(|| error!(error_kind = e.kind(), reason = %kit::error::chain(&e), "sweep failed"));
        Failed(e)
    })
}

pub async fn serve<P: PendingContacts, Q: WorkQueue, C: WorkQueue>(
    parts: Parts<P, Q, C>,
) -> Result<(), lambda_runtime::Error> {
    let parts = &parts;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move { handle(parts, event).await })).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use contacts::flow_log::RecordingRequested;
    use contacts::testing::{MemoryContactStore, RecordingQueue};
    use contacts::{Contact, ContactId, InstanceId};
    use serde_json::json;

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
        let store = MemoryContactStore::default();
        let requested = RecordingRequested {
            contact_id: ContactId::parse("1c0ffee0-0003-4003-8003-000000000001").unwrap(),
            instance_id: InstanceId::parse("5e7c0a11-0003-4003-8003-00000000c0a1").unwrap(),
            requested_at: None,
            participants: vec!["Agent".into()],
            analytics: false,
        };
        store.put(Contact::initialised(requested, Utc::now()));
        let parts = Parts { store, poll_queue: RecordingQueue::default(), check_queue: RecordingQueue::default() };
        let scheduled: Value =
            serde_json::from_str(include_str!("../../../events/recording-sweep/scheduled-event.json")).unwrap();
        let event = LambdaEvent::new(scheduled, lambda_runtime::Context::default());
        let summary = handle(&parts, event).await.unwrap();
        assert_eq!(summary.to_poll, 1);
        let sent = parts.poll_queue.sent();
        assert_eq!(sent[0]["type"], "contact.poll");
        assert_eq!(sent[0]["id"], "contact.poll:1c0ffee0-0003-4003-8003-000000000001:2026-01-01T10:05Z");
    }
}
