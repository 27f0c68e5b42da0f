//! How each function is driven for its figures. A sample event replayed as it is
//! measures a refusal or the duplicate path once the state it names is missing or
//! already handled; so each scenario seeds what the function's first-time
//! (success) path needs, through the domain crates' own stores and use cases,
//! and gives every invocation fresh ids. Each answer is checked, so the table
//! says what was measured rather than what was meant.

mod api;
mod approvals;
mod audit;
mod contacts;
mod logins;
mod reports;
mod sample;
mod sqs;

use std::path::Path;

use anyhow::Context as _;
use async_trait::async_trait;
use local_stack::LocalStack;
use serde_json::Value;

pub use sqs::tally_logs;

/// What one pass of invocations did, record by record.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    /// First-time work (the kit's `Outcome::Done`, an API's 201, a sweep's item).
    pub done: usize,
    /// The duplicate path (`Outcome::Duplicate`, an API's replayed 200).
    pub duplicate: usize,
    /// Refused, dead-lettered, retried, or an unexpected answer.
    pub failed: usize,
}

impl Tally {
    pub fn add(&mut self, other: Tally) {
        self.done += other.done;
        self.duplicate += other.duplicate;
        self.failed += other.failed;
    }

    /// What happened after `earlier` was counted (both running totals).
    pub fn since(self, earlier: Tally) -> Tally {
        Tally {
            done: self.done.saturating_sub(earlier.done),
            duplicate: self.duplicate.saturating_sub(earlier.duplicate),
            failed: self.failed.saturating_sub(earlier.failed),
        }
    }
}

/// Where a pass's outcome is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// An SQS step: the kit's log line per record (the batch response names only failures).
    RecordLogs,
    /// Anything else: the scenario reads each invocation's answer.
    Answer,
}

/// One function driven down one path.
#[async_trait]
pub trait Scenario: Send {
    /// The path measured, for the table.
    fn path(&self) -> String;

    /// Records per invocation to measure (SQS steps: batches of 1 and 10).
    fn sizes(&self) -> &'static [usize] {
        &[1, 10]
    }

    fn check(&self) -> Check {
        Check::RecordLogs
    }

    /// Seeds what one invocation of `k` records needs and returns its event. Not timed.
    async fn prepare(&mut self, k: usize) -> anyhow::Result<Value>;

    /// What one answer says (for `Check::Answer`): `Ok` is the response, `Err` the function error.
    fn tally(&self, _answer: &Result<Value, Value>, _k: usize) -> Tally {
        Tally::default()
    }

    /// After each invocation, not timed: looks at the stored state where the
    /// answer cannot tell success from a refusal (returns how many records the
    /// answer called done that were not), and undoes what would change the next
    /// invocation's work.
    async fn after(&mut self) -> anyhow::Result<usize> {
        Ok(0)
    }

    /// The same event delivered again, if that is a path worth its own figure.
    fn redelivery(&self, first: &Value) -> Option<Value> {
        (self.check() == Check::RecordLogs).then(|| sqs::redelivered(first))
    }
}

/// What scenarios are built from: the running stack and the sample events.
pub struct Env<'a> {
    pub stack: &'a LocalStack,
    pub workspace: &'a Path,
    /// Tags this bench run's ids, so they never meet an earlier run's.
    pub run: String,
}

impl Env<'_> {
    pub fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(self.stack.sdk_config())
    }

    pub fn table(&self, logical_id: &str) -> anyhow::Result<String> {
        Ok(self.stack.provisioned().table_name(logical_id)?.to_owned())
    }

    /// `events/<dir>/<file>`.
    pub fn sample(&self, dir: &str, file: &str) -> anyhow::Result<Value> {
        let path = self.workspace.join("events").join(dir).join(file);
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        Ok(serde_json::from_str(&text)?)
    }

    /// Events for the function's SQS source, modelled on its `sqs-batch.json`.
    pub fn source(&self, binary: &str) -> anyhow::Result<sqs::Source> {
        sqs::Source::new(self.stack, &self.sample(binary, "sqs-batch.json")?, binary)
    }
}

/// Functions whose figure depends on what others leave behind (scheduled scans
/// and sweeps): measured first, on state they alone seeded.
const FIRST: [&str; 3] = ["stuck-detector", "recording-sweep", "approval-sweeper"];

/// The measuring order: `FIRST`, then the template's order.
pub fn ordered(mut binaries: Vec<String>) -> Vec<String> {
    binaries.sort_by_key(|b| FIRST.iter().position(|f| f == b).unwrap_or(FIRST.len()));
    binaries
}

/// The scenario for a function; a function without one replays its sample as it is.
pub async fn for_function(binary: &str, env: &Env<'_>) -> anyhow::Result<Box<dyn Scenario>> {
    Ok(match binary {
        "record-login" => Box::new(logins::RecordLogin::new(env)?),
        "query-api" => Box::new(logins::query_api(env).await?),
        "mark-reported" => Box::new(reports::MarkReported::new(env)?),
        "create-zendesk-ticket" => Box::new(reports::CreateTicket::new(env)?),
        "send-txma-event" => Box::new(reports::Effect::txma(env)?),
        "send-notify-email" => Box::new(reports::Effect::email(env)?),
        "stuck-detector" => Box::new(reports::StuckDetector::new(env)?),
        "approval-api" => Box::new(approvals::create_request_api(env)?),
        "send-approval-emails" => Box::new(approvals::SendEmails::new(env)?),
        "enqueue-decision" => Box::new(approvals::Decided::enqueue(env)?),
        "notify-approvers" => Box::new(approvals::Decided::notify(env)?),
        "approval-sweeper" => Box::new(approvals::Sweeper::new(env)?),
        "workflow-api" => Box::new(audit::post_workflow(env)?),
        "create-audit-record" => Box::new(audit::FirstAction::audit(env)?),
        "send-notification" => Box::new(audit::FirstAction::notify(env)?),
        "announce-workflow" => Box::new(audit::Announce::new(env)?),
        "ingest-connect-logs" => Box::new(contacts::Ingest::new(env)?),
        "recording-sweep" => Box::new(contacts::Sweep::new(env)?),
        "poll-contact" => Box::new(contacts::Poll::new(env)?),
        "check-recording" => Box::new(contacts::CheckRecording::new(env)?),
        "contacts-api" => Box::new(contacts::get_contact(env).await?),
        other => Box::new(sample::AsIs::new(env, other)?),
    })
}

/// 2xx of an API answer: 201 is new work, another 2xx a replay or a read.
pub fn http_tally(answer: &Result<Value, Value>, created_is_new: bool) -> Tally {
    let status = answer.as_ref().ok().and_then(|v| v.get("statusCode")).and_then(Value::as_u64).unwrap_or(0);
    match status {
        201 => Tally { done: 1, ..Tally::default() },
        200..=299 if created_is_new => Tally { duplicate: 1, ..Tally::default() },
        200..=299 => Tally { done: 1, ..Tally::default() },
        _ => Tally { failed: 1, ..Tally::default() },
    }
}

/// A count in a scheduled function's answer, against the `k` items seeded.
pub fn count_tally(answer: &Result<Value, Value>, field: &str, k: usize) -> Tally {
    let n = answer.as_ref().ok().and_then(|v| v.get(field)).and_then(Value::as_u64).unwrap_or(0) as usize;
    Tally { done: n.min(k), duplicate: 0, failed: k.saturating_sub(n) + n.saturating_sub(k) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scans_and_sweeps_come_first_in_a_stable_order() {
        let all = ["record-login", "approval-sweeper", "query-api", "stuck-detector"].map(str::to_owned).to_vec();
        assert_eq!(ordered(all), ["stuck-detector", "approval-sweeper", "record-login", "query-api"]);
    }

    #[test]
    fn api_answers_tell_new_work_from_a_replay() {
        assert_eq!(http_tally(&Ok(json!({"statusCode": 201})), true).done, 1);
        assert_eq!(http_tally(&Ok(json!({"statusCode": 200})), true).duplicate, 1);
        assert_eq!(http_tally(&Ok(json!({"statusCode": 200})), false).done, 1);
        assert_eq!(http_tally(&Ok(json!({"statusCode": 404})), false).failed, 1);
        assert_eq!(http_tally(&Err(json!({})), false).failed, 1);
    }

    #[test]
    fn a_sweep_that_found_other_than_it_was_given_is_flagged() {
        assert_eq!(count_tally(&Ok(json!({"to_poll": 10})), "to_poll", 10), Tally { done: 10, ..Tally::default() });
        assert_eq!(count_tally(&Ok(json!({"to_poll": 12})), "to_poll", 10).failed, 2);
        assert_eq!(count_tally(&Ok(json!({})), "to_poll", 1).failed, 1);
    }
}
