//! The subscription event in, the ingest use case, and how a failure surfaces.
//!
//! CloudWatch Logs invokes asynchronously: a returned error makes Lambda retry the
//! delivery twice, then hand it to the function's dead-letter queue with the
//! error message as the `ErrorMessage` attribute. So the error type Lambda records
//! is our error kind (`malformed_payload`, `dynamodb_unavailable`), and the message
//! its reason; retrying a malformed payload is wasted but harmless (the puts are
//! conditional), and retrying a failed write is exactly what is wanted.

use chrono::Utc;
use contacts::ports::{ContactStore, FlowLogHeartbeat};
use contacts::usecases::{ingest, IngestSummary};
use contacts::ContactError;
use kit::Classify;
use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde_json::Value;
use tracing::{error, Instrument};

pub const FUNCTION: &str = "ingest-connect-logs";

/// The invocation's failure as Lambda reports it.
#[derive(Debug)]
pub struct Failed(pub ContactError);

impl From<Failed> for Diagnostic {
    fn from(failed: Failed) -> Self {
        Diagnostic { error_type: failed.0.kind().to_owned(), error_message: kit::error::chain(&failed.0) }
    }
}

pub async fn handle<S: ContactStore + FlowLogHeartbeat>(
    store: &S,
    event: LambdaEvent<Value>,
) -> Result<IngestSummary, Failed> {
    let span = tracing::error_span!("invocation", request_id = %event.context.request_id);
    let result = ingest(store, &event.payload, Utc::now()).instrument(span.clone()).await;
    kit::metrics::flush();
    result.map_err(|e| {
        span.in_scope(|| {
            error!(error_kind = e.kind(), error_class = %e.class(), reason = %kit::error::chain(&e), "delivery failed")
        });
        Failed(e)
    })
}

pub async fn serve<S: ContactStore + FlowLogHeartbeat>(store: S) -> Result<(), lambda_runtime::Error> {
    let store = &store;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move { handle(store, event).await })).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use contacts::testing::MemoryContactStore;
    use serde_json::json;

    fn event(payload: Value) -> LambdaEvent<Value> {
        LambdaEvent::new(payload, lambda_runtime::Context::default())
    }

    /// The demo's delivery: three recording blocks and a SetQueue line.
    fn fixture() -> Value {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../events/ingest-connect-logs/subscription.json");
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[tokio::test]
    async fn the_fixture_caches_its_contacts_and_notes_the_delivery() {
        let store = MemoryContactStore::default();
        let summary = handle(&store, event(fixture())).await.unwrap();
        assert_eq!((summary.cached, summary.ignored), (3, 1));
        assert_eq!(store.all().len(), 3);
        assert!(contacts::ports::FlowLogHeartbeat::heartbeat(&store).await.unwrap().last_delivery_at.is_some());
    }

    #[tokio::test]
    async fn a_malformed_payload_fails_with_its_kind_and_reason() {
        let store = MemoryContactStore::default();
        let failed = handle(&store, event(json!({"awslogs": {}}))).await.unwrap_err();
        let diagnostic: Diagnostic = failed.into();
        assert_eq!(diagnostic.error_type, "malformed_payload");
        assert!(diagnostic.error_message.contains("awslogs.data"), "{}", diagnostic.error_message);
    }
}
