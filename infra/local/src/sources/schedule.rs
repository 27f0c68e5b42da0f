//! Fires a function's Schedule/ScheduleV2 events at their real marks.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::cron::ScheduleExpression;
use crate::lambda::{InvokeOutcome, Invoker};
use crate::template::{ScheduleSpec, StackContext};

#[derive(Debug, Clone)]
pub struct ScheduleRunner {
    pub function: String,
    pub spec: ScheduleSpec,
    pub expression: ScheduleExpression,
    /// The rule (or schedule) ARN carried in `resources`.
    pub resource_arn: String,
    pub region: String,
    pub account_id: String,
}

impl ScheduleRunner {
    pub fn new(function: &str, spec: ScheduleSpec, expression: ScheduleExpression, ctx: &StackContext) -> Self {
        let name = format!("{}-{function}-{}", ctx.stack_name, spec.name);
        let resource_arn = if spec.scheduler_v2 {
            format!("arn:{}:scheduler:{}:{}:schedule/default/{name}", ctx.partition, ctx.region, ctx.account_id)
        } else {
            format!("arn:{}:events:{}:{}:rule/{name}", ctx.partition, ctx.region, ctx.account_id)
        };
        Self {
            function: function.to_owned(),
            spec,
            expression,
            resource_arn,
            region: ctx.region.clone(),
            account_id: ctx.account_id.clone(),
        }
    }

    /// The payload for a firing at `time`: the event's `Input` if it has one,
    /// else EventBridge's Scheduled Event.
    pub fn payload(&self, time: DateTime<Utc>) -> Value {
        match &self.spec.input {
            Some(input) => input.clone(),
            None => scheduled_event(time, &self.region, &self.account_id, &self.resource_arn),
        }
    }

    pub async fn run(self, invoker: Invoker, cancel: CancellationToken) {
        let anchor = Utc::now();
        info!(function = %self.function, schedule = %self.spec.expression, "schedule started");
        loop {
            let Some(next) = self.expression.next_after(Utc::now(), anchor) else {
                info!(function = %self.function, schedule = %self.spec.expression, "schedule has no further firings");
                return;
            };
            let wait = (next - Utc::now()).to_std().unwrap_or_default();
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = cancel.cancelled() => return,
            }
            let payload = self.payload(next);
            let outcome = tokio::select! {
                outcome = invoker.invoke(&self.function, payload) => outcome,
                () = cancel.cancelled() => return,
            };
            match outcome {
                Ok(InvokeOutcome::Ok(_)) => {
                    info!(function = %self.function, at = %next, "scheduled invocation succeeded")
                }
                Ok(InvokeOutcome::FunctionError(error)) => {
                    warn!(function = %self.function, at = %next, %error, "scheduled invocation failed");
                }
                Err(e) => {
                    warn!(function = %self.function, error = %e, "cannot invoke; schedule stopped");
                    return;
                }
            }
        }
    }
}

/// EventBridge's "Scheduled Event".
pub fn scheduled_event(time: DateTime<Utc>, region: &str, account_id: &str, resource_arn: &str) -> Value {
    json!({
        "version": "0",
        "id": uuid::Uuid::new_v4().to_string(),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account_id,
        "time": time.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "region": region,
        "resources": [resource_arn],
        "detail": {}
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn scheduled_event_shape() {
        let time = Utc.with_ymd_and_hms(2026, 1, 1, 10, 5, 0).single().expect("time");
        let event = scheduled_event(time, "eu-west-2", "123456789012", "arn:aws:events:eu-west-2:123456789012:rule/r");
        assert_eq!(event["detail-type"], "Scheduled Event");
        assert_eq!(event["source"], "aws.events");
        assert_eq!(event["time"], "2026-01-01T10:05:00Z");
        assert_eq!(event["resources"][0], "arn:aws:events:eu-west-2:123456789012:rule/r");
        assert_eq!(event["detail"], json!({}));
    }
}
