//! Queued AWS faults and the rule that decides which request they hit.

use std::sync::{Arc, Mutex};

use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};

fn one() -> u32 {
    1
}
fn status_500() -> u16 {
    500
}
fn internal_error() -> String {
    "InternalServerError".to_owned()
}
fn injected() -> String {
    "injected fault".to_owned()
}

/// A fault: answer the next `count` requests for `operation` with an error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fault {
    /// `TransactWriteItems`, `SendMessage`, `Publish`... or `*` for every request.
    pub operation: String,
    /// How many matching requests still get the error.
    #[serde(default = "one")]
    pub count: u32,
    #[serde(default = "status_500")]
    pub status: u16,
    /// The error code (`__type` / `x-amzn-ErrorType`).
    #[serde(default = "internal_error")]
    pub code: String,
    #[serde(default = "injected")]
    pub message: String,
}

impl Fault {
    /// Whether this fault applies to a request for `operation`.
    pub fn matches(&self, operation: Option<&str>) -> bool {
        self.count > 0 && (self.operation == "*" || operation == Some(self.operation.as_str()))
    }
}

/// The operation a request is for: the `X-Amz-Target` suffix (JSON
/// protocols: DynamoDB, SQS) or the `Action` parameter (query protocols: SNS,
/// SES), in the query string or the form body.
pub fn operation_of(headers: &HeaderMap, query: Option<&str>, body: &[u8]) -> Option<String> {
    if let Some(target) = headers.get("x-amz-target").and_then(|v| v.to_str().ok()) {
        return target.rsplit('.').next().map(str::to_owned);
    }
    let action = |bytes: &[u8]| form_urlencoded::parse(bytes).find(|(k, _)| k == "Action").map(|(_, v)| v.into_owned());
    if let Some(found) = query.and_then(|q| action(q.as_bytes())) {
        return Some(found);
    }
    let is_form = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    if is_form {
        return action(body);
    }
    None
}

/// The queue of pending faults, shared by the proxy and `LocalStack::faults()`.
#[derive(Debug, Clone, Default)]
pub struct FaultInjector {
    faults: Arc<Mutex<Vec<Fault>>>,
}

impl FaultInjector {
    /// Queues a fault (after those already queued).
    pub fn inject(&self, fault: Fault) {
        if let Ok(mut faults) = self.faults.lock() {
            faults.push(fault);
        }
    }

    /// Faults with requests left to hit.
    pub fn pending(&self) -> Vec<Fault> {
        self.faults.lock().map(|f| f.clone()).unwrap_or_default()
    }

    pub fn clear(&self) {
        if let Ok(mut faults) = self.faults.lock() {
            faults.clear();
        }
    }

    /// Consumes one use of the first fault matching `operation`.
    pub fn take(&self, operation: Option<&str>) -> Option<Fault> {
        let mut faults = self.faults.lock().ok()?;
        let index = faults.iter().position(|f| f.matches(operation))?;
        let fault = faults.get_mut(index)?;
        fault.count -= 1;
        let hit = fault.clone();
        if fault.count == 0 {
            faults.remove(index);
        }
        Some(hit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn fault(operation: &str, count: u32) -> Fault {
        Fault {
            operation: operation.into(),
            count,
            status: 500,
            code: "InternalServerError".into(),
            message: "injected".into(),
        }
    }

    #[test]
    fn operation_comes_from_target_header_query_or_form() {
        let mut headers = HeaderMap::new();
        headers.insert("x-amz-target", HeaderValue::from_static("DynamoDB_20120810.TransactWriteItems"));
        assert_eq!(operation_of(&headers, None, b""), Some("TransactWriteItems".into()));

        let mut form = HeaderMap::new();
        form.insert("content-type", HeaderValue::from_static("application/x-www-form-urlencoded; charset=utf-8"));
        assert_eq!(operation_of(&form, None, b"Action=Publish&TopicArn=x"), Some("Publish".into()));
        assert_eq!(operation_of(&HeaderMap::new(), Some("Action=SendEmail"), b""), Some("SendEmail".into()));
        assert_eq!(operation_of(&HeaderMap::new(), None, b"Action=Publish"), None);
    }

    #[test]
    fn faults_hit_count_matching_requests_then_expire() {
        let injector = FaultInjector::default();
        injector.inject(fault("TransactWriteItems", 2));
        assert!(injector.take(Some("PutItem")).is_none());
        assert!(injector.take(Some("TransactWriteItems")).is_some());
        assert_eq!(injector.pending()[0].count, 1);
        assert!(injector.take(Some("TransactWriteItems")).is_some());
        assert!(injector.take(Some("TransactWriteItems")).is_none());
        assert!(injector.pending().is_empty());
    }

    #[test]
    fn wildcard_matches_everything_and_clear_empties() {
        let injector = FaultInjector::default();
        injector.inject(fault("*", 5));
        assert!(injector.take(None).is_some());
        assert!(injector.take(Some("Publish")).is_some());
        injector.clear();
        assert!(injector.take(Some("Publish")).is_none());
    }

    #[test]
    fn defaults_fill_in_a_minimal_request() {
        let f: Fault = serde_json::from_str(r#"{"operation": "SendMessage"}"#).expect("fault");
        assert_eq!(
            f,
            Fault {
                operation: "SendMessage".into(),
                count: 1,
                status: 500,
                code: "InternalServerError".into(),
                message: "injected fault".into()
            }
        );
    }
}
