//! AWS requests counted by `Service.Operation`, for cost figures: what the
//! functions asked of AWS (through the proxy) and what the event source
//! mappings did on their behalf (`ESM:` keys).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

/// Every ReceiveMessage an SQS event source made.
pub const ESM_RECEIVE: &str = "ESM:SQS.ReceiveMessage";
/// ReceiveMessage calls that returned at least one message: idle long polls
/// are a fixed cost per queue, these scale with the work.
pub const ESM_RECEIVE_NON_EMPTY: &str = "ESM:SQS.ReceiveMessage.NonEmpty";
pub const ESM_DELETE_BATCH: &str = "ESM:SQS.DeleteMessageBatch";

/// Request counts by key, shared by the proxy, the pollers and `LocalStack`.
#[derive(Debug, Clone, Default)]
pub struct RequestCounter {
    counts: Arc<Mutex<BTreeMap<String, u64>>>,
}

impl RequestCounter {
    pub fn add(&self, key: &str) {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        *counts.entry(key.to_owned()).or_default() += 1;
    }

    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.counts.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    pub fn reset(&self) {
        self.counts.lock().unwrap_or_else(PoisonError::into_inner).clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_key_and_resets() {
        let counter = RequestCounter::default();
        let shared = counter.clone();
        counter.add("SQS.SendMessage");
        shared.add("SQS.SendMessage");
        counter.add(ESM_RECEIVE);
        assert_eq!(
            counter.snapshot(),
            BTreeMap::from([(ESM_RECEIVE.to_owned(), 1), ("SQS.SendMessage".to_owned(), 2)])
        );
        shared.reset();
        assert!(counter.snapshot().is_empty());
    }
}
