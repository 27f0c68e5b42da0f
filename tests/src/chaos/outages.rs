//! Provider outages in the chaos run, on the shipped retry policy at the test
//! time scale: Zendesk down for 6 hours and Notify for 2 (both answering 503),
//! then Zendesk answering a burst of 429s whose `Retry-After` (10 minutes) is far
//! longer than the backoff the first receives would wait. A few reports go in
//! first, ahead of the load, so they are at the ticket step, waiting out the
//! outage, when the burst comes: their retries are timed. Afterwards every
//! workflow must complete with no dead letter from an outage, and no caller may
//! have come back to Zendesk sooner than a 429 told it to.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use kit::retry::TimeScale;
use local_stack::fakes::faults::Answered;
use serde_json::{json, Value};

use crate::providers::set_faults_at;

/// The outages, in real (shipped) time; the run compresses them by the time scale.
#[derive(Debug, Clone)]
pub struct Outages {
    pub zendesk_down: Duration,
    pub notify_down: Duration,
    /// How long Zendesk answers every request 429 after its outage.
    pub rate_limit_burst: Duration,
    /// The `Retry-After` of those 429s.
    pub retry_after_secs: u32,
    /// Reports sent once, ahead of the load: their retries are timed.
    pub rate_limited_reports: usize,
}

impl Default for Outages {
    fn default() -> Self {
        Self {
            zendesk_down: Duration::from_secs(6 * 60 * 60),
            notify_down: Duration::from_secs(2 * 60 * 60),
            rate_limit_burst: Duration::from_secs(30 * 60),
            retry_after_secs: 600,
            rate_limited_reports: 5,
        }
    }
}

impl Outages {
    pub fn describe(&self, scale: TimeScale) -> String {
        let at = |d: Duration| format!("{:.0} s", scale.compress(d).as_secs_f64());
        format!(
            "Zendesk down (503) for {} h ({} at the time scale), Notify for {} h ({}), then Zendesk answering 429 with `Retry-After: {}` for {} min ({})",
            self.zendesk_down.as_secs() / 3600,
            at(self.zendesk_down),
            self.notify_down.as_secs() / 3600,
            at(self.notify_down),
            self.retry_after_secs,
            self.rate_limit_burst.as_secs() / 60,
            at(self.rate_limit_burst),
        )
    }
}

/// The longest the 429 burst waits, beyond its own length, for the timed reports
/// to come back once (they are normally there at once). Short: at the test time
/// scale 30 s is 5 hours of 429s, well inside the retry budget.
const BURST_WAIT_FOR_TIMED: Duration = Duration::from_secs(30);

/// The report id in a report message body.
fn report_id_in(body: &str) -> Option<String> {
    serde_json::from_str::<Value>(body).ok()?["report_id"].as_str().map(str::to_owned)
}

/// Where the weather happens and what it sends.
pub struct Weather {
    pub plan: Outages,
    pub scale: TimeScale,
    pub zendesk: String,
    pub notify: String,
    /// The fakes' everyday faults, restored after each outage.
    pub flaky: Value,
    pub sqs: aws_sdk_sqs::Client,
    pub queue: String,
    /// The timed reports' bodies, sent once as the outage starts, ahead of the load.
    pub rate_limited: Vec<String>,
}

impl Weather {
    /// Both providers down now, the timed reports sent; Notify back after its
    /// outage; Zendesk after its own, into the 429 burst, then back to everyday
    /// flakiness. Call before sending the load, so the timed reports lead it.
    pub async fn start(self) -> anyhow::Result<tokio::task::JoinHandle<anyhow::Result<()>>> {
        let down = json!({"error_rate": 1.0, "status": 503});
        set_faults_at(&self.zendesk, down.clone()).await;
        set_faults_at(&self.notify, down).await;
        super::send_all(&self.sqs, &self.queue, &self.rate_limited).await?;
        Ok(tokio::spawn(self.run()))
    }

    async fn run(self) -> anyhow::Result<()> {
        let notify_back = self.scale.compress(self.plan.notify_down);
        let zendesk_back = self.scale.compress(self.plan.zendesk_down);
        tokio::time::sleep(notify_back).await;
        set_faults_at(&self.notify, self.flaky.clone()).await;
        tokio::time::sleep(zendesk_back.saturating_sub(notify_back)).await;
        set_faults_at(
            &self.zendesk,
            json!({"error_rate": 1.0, "kinds": ["429"], "retry_after_secs": self.plan.retry_after_secs}),
        )
        .await;
        // At least the burst; a little longer if a timed report has not yet come
        // back once after a 429 (else nothing would be timed).
        let least = tokio::time::Instant::now() + self.scale.compress(self.plan.rate_limit_burst);
        let most = least + BURST_WAIT_FOR_TIMED;
        loop {
            let now = tokio::time::Instant::now();
            if now >= most || (now >= least && self.every_timed_report_came_back().await) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        set_faults_at(&self.zendesk, self.flaky).await;
        Ok(())
    }

    /// Whether each timed report has made a request after one of its 429s.
    async fn every_timed_report_came_back(&self) -> bool {
        let subjects: BTreeSet<String> = self.rate_limited.iter().filter_map(|b| report_id_in(b)).collect();
        let answered = crate::providers::answered_at(&self.zendesk).await;
        subjects.iter().all(|s| {
            let one: BTreeSet<String> = [s.clone()].into();
            check_retry_after(&answered, &one, self.scale).checked > 0
        })
    }
}

/// How the callers of a provider honoured its `Retry-After`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RetryAfterCheck {
    /// Requests about the subjects, and how many of them were answered 429.
    pub seen: usize,
    pub rate_limited: usize,
    /// 429s with a `Retry-After` that were followed by another request about the same subject.
    pub checked: usize,
    /// The shortest such gap, in compressed milliseconds, and the least it had to be.
    pub shortest_gap_ms: Option<(i64, i64)>,
    pub violations: Vec<String>,
}

/// For each subject, every 429 with a `Retry-After` and the next request about the
/// same subject: the gap must be at least the `Retry-After` (compressed).
pub fn check_retry_after(answered: &[Answered], subjects: &BTreeSet<String>, scale: TimeScale) -> RetryAfterCheck {
    let mut by_subject: BTreeMap<&str, Vec<&Answered>> = BTreeMap::new();
    for a in answered {
        if let Some(s) = a.subject.as_deref().filter(|s| subjects.contains(*s)) {
            by_subject.entry(s).or_default().push(a);
        }
    }
    let mut check = RetryAfterCheck::default();
    for requests in by_subject.values() {
        check.seen += requests.len();
        check.rate_limited += requests.iter().filter(|a| a.status == 429).count();
    }
    for (subject, mut requests) in by_subject {
        requests.sort_by_key(|a| a.at_ms);
        for pair in requests.windows(2) {
            let (told, next) = (pair[0], pair[1]);
            let Some(secs) = told.retry_after_secs.filter(|_| told.status == 429) else { continue };
            let least = scale.compress(Duration::from_secs(u64::from(secs))).as_millis() as i64;
            let gap = next.at_ms - told.at_ms;
            check.checked += 1;
            if check.shortest_gap_ms.is_none_or(|(g, _)| gap < g) {
                check.shortest_gap_ms = Some((gap, least));
            }
            if gap < least {
                check.violations.push(format!("{subject}: back after {gap} ms, told {least} ms"));
            }
        }
    }
    check
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answered(at_ms: i64, subject: &str, status: u16, retry_after_secs: Option<u32>) -> Answered {
        Answered {
            at_ms,
            method: "POST".into(),
            path: "/api/v2/tickets.json".into(),
            subject: Some(subject.into()),
            status,
            retry_after_secs,
        }
    }

    #[test]
    fn a_caller_back_too_soon_after_a_429_is_a_violation() {
        let scale = TimeScale::new(600.0).unwrap();
        let subjects: BTreeSet<String> = ["a".to_owned(), "b".to_owned()].into();
        let log = vec![
            answered(0, "a", 429, Some(600)),
            answered(1_200, "a", 201, None),
            answered(0, "b", 429, Some(600)),
            answered(400, "b", 201, None),
            answered(0, "other", 429, Some(600)),
            answered(1, "other", 201, None),
        ];
        let check = check_retry_after(&log, &subjects, scale);
        assert_eq!(check.checked, 2, "only the timed subjects count");
        assert_eq!((check.seen, check.rate_limited), (4, 2));
        assert_eq!(check.violations, vec!["b: back after 400 ms, told 1000 ms".to_owned()]);
        assert_eq!(check.shortest_gap_ms, Some((400, 1000)));
    }
}
