//! SQS events as the event-source mapping builds them, around fresh bodies, and
//! what the kit's log lines say each record did.

use anyhow::Context as _;
use local_stack::template::FunctionEvent;
use local_stack::LocalStack;
use serde_json::{json, Value};

use super::Tally;

/// Builds events for one function's queue: the sample's record (attributes,
/// region) with the real queue's ARN, so a dead letter or a visibility change
/// reaches the queue the template wires (the samples' ARNs are illustrative).
pub struct Source {
    template: Value,
}

impl Source {
    pub fn new(stack: &LocalStack, sample: &Value, binary: &str) -> anyhow::Result<Self> {
        let mut template =
            sample.pointer("/Records/0").cloned().with_context(|| format!("{binary}: the sample has no record"))?;
        let arn = stack
            .invoker()
            .spec(binary)
            .and_then(|spec| {
                spec.events.iter().find_map(|e| match e {
                    FunctionEvent::Sqs(source) => Some(source.queue_arn.clone()),
                    _ => None,
                })
            })
            .with_context(|| format!("{binary} has no SQS event source"))?;
        template["eventSourceARN"] = json!(arn);
        template["messageAttributes"] = json!({});
        Ok(Self { template })
    }

    /// One record per body, first delivery, fresh message ids.
    pub fn event(&self, bodies: impl IntoIterator<Item = String>) -> Value {
        let records: Vec<Value> = bodies
            .into_iter()
            .map(|body| {
                let mut r = self.template.clone();
                r["messageId"] = json!(uuid::Uuid::new_v4().to_string());
                r["receiptHandle"] = json!(format!("bench-{}", uuid::Uuid::new_v4().simple()));
                r["body"] = json!(body);
                r["md5OfBody"] = json!("");
                r["attributes"]["ApproximateReceiveCount"] = json!("1");
                r
            })
            .collect();
        json!({ "Records": records })
    }
}

/// The same records delivered again (a lost delete, a visibility timeout): the
/// same message ids and bodies, received a second time.
pub fn redelivered(event: &Value) -> Value {
    let mut again = event.clone();
    if let Some(records) = again.get_mut("Records").and_then(Value::as_array_mut) {
        for r in records {
            r["attributes"]["ApproximateReceiveCount"] = json!("2");
        }
    }
    again
}

/// Records settled in these log lines: "record handled" with its outcome, sent to
/// the dead-letter queue, or left to retry.
pub fn tally_logs(lines: &[String]) -> Tally {
    let mut t = Tally::default();
    for line in lines {
        let Ok(v) = serde_json::from_str::<Value>(line) else { continue };
        match v.get("message").and_then(Value::as_str) {
            Some("record handled") => match v.get("outcome").and_then(Value::as_str) {
                Some("Done") => t.done += 1,
                Some("Duplicate") => t.duplicate += 1,
                _ => t.failed += 1,
            },
            Some("record sent to the dead-letter queue" | "record failed; will retry") => t.failed += 1,
            _ => {}
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_the_kits_settlement_lines() {
        let lines: Vec<String> = [
            r#"{"message":"record handled","outcome":"Done"}"#,
            r#"{"message":"record handled","outcome":"Duplicate"}"#,
            r#"{"message":"record failed; will retry","error_kind":"x"}"#,
            r#"{"message":"ticket created"}"#,
            "not json",
        ]
        .map(str::to_owned)
        .to_vec();
        assert_eq!(tally_logs(&lines), Tally { done: 1, duplicate: 1, failed: 1 });
    }

    #[test]
    fn a_redelivery_keeps_ids_and_counts_a_second_receive() {
        let first =
            json!({"Records": [{"messageId": "m", "body": "b", "attributes": {"ApproximateReceiveCount": "1"}}]});
        let again = redelivered(&first);
        assert_eq!(again["Records"][0]["messageId"], "m");
        assert_eq!(again["Records"][0]["attributes"]["ApproximateReceiveCount"], "2");
    }
}
