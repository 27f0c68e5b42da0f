//! The HTTP API functions' scenarios: one request per invocation, judged by its
//! status (`http_tally`). Creates post the sample's body under a new id each time;
//! reads replay the sample against state the caller seeded.

use async_trait::async_trait;
use serde_json::{json, Value};

use super::{http_tally, Check, Scenario, Tally};

/// A POST of a sample body under a new id in `field` each time: the create path
/// (201). The same POST again is a client's retry, answered with what was stored.
pub struct FreshPost {
    event: Value,
    field: &'static str,
    new_id: fn() -> String,
    path: &'static str,
}

impl FreshPost {
    pub fn new(event: Value, field: &'static str, new_id: fn() -> String, path: &'static str) -> Self {
        Self { event, field, new_id, path }
    }
}

#[async_trait]
impl Scenario for FreshPost {
    fn path(&self) -> String {
        self.path.to_owned()
    }

    fn sizes(&self) -> &'static [usize] {
        &[1]
    }

    fn check(&self) -> Check {
        Check::Answer
    }

    async fn prepare(&mut self, _k: usize) -> anyhow::Result<Value> {
        let mut body: Value = serde_json::from_str(self.event["body"].as_str().unwrap_or("{}"))?;
        body[self.field] = json!((self.new_id)());
        let mut event = self.event.clone();
        event["body"] = json!(body.to_string());
        Ok(event)
    }

    fn tally(&self, answer: &Result<Value, Value>, _k: usize) -> Tally {
        http_tally(answer, true)
    }

    fn redelivery(&self, first: &Value) -> Option<Value> {
        Some(first.clone())
    }
}

/// The sample request, the same every time, against state seeded for it: a read.
pub struct Read {
    event: Value,
    path: String,
}

impl Read {
    pub fn new(event: Value, path: String) -> Self {
        Self { event, path }
    }
}

#[async_trait]
impl Scenario for Read {
    fn path(&self) -> String {
        self.path.clone()
    }

    fn sizes(&self) -> &'static [usize] {
        &[1]
    }

    fn check(&self) -> Check {
        Check::Answer
    }

    async fn prepare(&mut self, _k: usize) -> anyhow::Result<Value> {
        Ok(self.event.clone())
    }

    fn tally(&self, answer: &Result<Value, Value>, _k: usize) -> Tally {
        http_tally(answer, false)
    }
}
