//! The retry policy: how long a record whose failure is retryable keeps coming
//! back before it is dead-lettered, and the queue settings that follow from it.
//!
//! One place computes them. The template's `RetryPolicy` mapping holds the same
//! numbers (`maxReceiveCount` and `MessageRetentionPeriod` of every step queue,
//! `MAX_RECEIVE_COUNT` of every step), and `ops/tests/retry_policy_matches_template.rs`
//! fails, naming the numbers to write, when the two disagree.
//!
//! Why receives and not time: SQS counts receives, so the redrive policy (the
//! safety net for crashes) and the kit (which dead-letters on the last receive,
//! with the reason) must agree on a count. The count is chosen so that even the
//! shortest jittered schedule waits at least the budget; the longest one sets the
//! retention, so no message expires while it is still being retried.

use std::time::Duration;

use crate::backoff::Backoff;
use crate::config::Env;

const HOUR: u64 = 60 * 60;
const DAY: u64 = 24 * HOUR;
/// SQS's limits on `maxReceiveCount` and `MessageRetentionPeriod`.
const SQS_MAX_RECEIVE_COUNT: u32 = 1000;
const SQS_MAX_RETENTION: Duration = Duration::from_secs(14 * DAY);
/// The longest a provider's `Retry-After` may stretch one wait: SQS refuses
/// visibility timeouts beyond 12 hours.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(12 * HOUR);

/// A retry policy for one kind of step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Its key in the template's `RetryPolicy` mapping.
    pub name: &'static str,
    /// A retryable failure keeps coming back for at least this long.
    pub budget: Duration,
    /// The spacing of the attempts (exponential, equal jitter, capped).
    pub backoff: Backoff,
}

/// Every SQS step's policy: a day of retries (a provider's outage of an afternoon,
/// a weekend's expired credential noticed on Monday morning is not covered), the
/// waits doubling from 2 s to a 15-minute cap so a recovered provider is used
/// again within 15 minutes.
pub const STANDARD: RetryPolicy = RetryPolicy {
    name: "Standard",
    budget: Duration::from_secs(DAY),
    backoff: Backoff { base: Duration::from_secs(2), max: Duration::from_secs(15 * 60) },
};

impl Default for RetryPolicy {
    fn default() -> Self {
        STANDARD
    }
}

impl RetryPolicy {
    /// The receive on which the kit gives up (and the redrive policy's
    /// `maxReceiveCount`): the smallest `n` whose `n - 1` waits, each at least half
    /// its ceiling (equal jitter), add up to the budget.
    pub fn max_receive_count(&self) -> u32 {
        let mut waited = Duration::ZERO;
        let mut receive = 1u32;
        while waited < self.budget && receive < SQS_MAX_RECEIVE_COUNT {
            waited += self.backoff.ceiling(receive) / 2;
            receive += 1;
        }
        receive
    }

    /// The shortest time from the first receive to the last (every jitter at its low end).
    pub fn shortest_span(&self) -> Duration {
        (1..self.max_receive_count()).map(|n| self.backoff.ceiling(n) / 2).sum()
    }

    /// The longest time from the first receive to the last (every jitter at its high end).
    pub fn longest_span(&self) -> Duration {
        (1..self.max_receive_count()).map(|n| self.backoff.ceiling(n)).sum()
    }

    /// The queue's `MessageRetentionPeriod`: the longest span plus a day for
    /// `Retry-After` stretches and crash redeliveries, rounded up to whole days,
    /// within SQS's 14-day limit. The runner dead-letters a record whose next wait
    /// would outlive its retention ([`RetryPolicy::outlives_retention`]), so even a
    /// longer stretch is never lost to expiry.
    pub fn retention(&self) -> Duration {
        let secs = self.longest_span().as_secs() + DAY;
        Duration::from_secs(secs.div_ceil(DAY) * DAY).min(SQS_MAX_RETENTION)
    }

    /// Whether a record sent `age` ago, waiting `wait` more, would come back after
    /// its queue has already deleted it (an hour kept in hand).
    pub fn outlives_retention(&self, age: Duration, wait: Duration) -> bool {
        age + wait + Duration::from_secs(HOUR) > self.retention()
    }
}

/// The one setting tests may change about retries: every retry duration divided
/// by the same factor, so a 24-hour budget runs in minutes with the same number of
/// receives and the same schedule shape. 1 (real time) unless `RETRY_TIME_SCALE`
/// is set; the template never sets it. The local stack sets it for every function
/// and compresses SQS visibility timeouts by the same factor itself (SQS takes
/// whole seconds, so the functions always ask for the real duration).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeScale(f64);

/// The variable holding the time scale.
pub const TIME_SCALE_VAR: &str = "RETRY_TIME_SCALE";

impl Default for TimeScale {
    fn default() -> Self {
        Self::REAL
    }
}

impl TimeScale {
    /// Real time.
    pub const REAL: TimeScale = TimeScale(1.0);

    /// A factor of at least 1; `None` otherwise.
    pub fn new(factor: f64) -> Option<Self> {
        (factor.is_finite() && factor >= 1.0).then_some(Self(factor))
    }

    /// `RETRY_TIME_SCALE`, validated (a factor below 1 would stretch retries).
    pub fn from_env(env: &mut Env) -> Self {
        let factor: f64 = env.parse_or(TIME_SCALE_VAR, 1.0);
        Self::new(factor).unwrap_or_else(|| {
            env.reject(TIME_SCALE_VAR, "must be a number of at least 1");
            Self::REAL
        })
    }

    /// The factor retry durations are divided by.
    pub fn factor(self) -> f64 {
        self.0
    }

    /// A retry duration as it runs under this scale.
    pub fn compress(self, d: Duration) -> Duration {
        d.div_f64(self.0)
    }

    /// [`TimeScale::compress`] for chrono durations (due times kept in tables).
    pub fn compress_chrono(self, d: chrono::Duration) -> chrono::Duration {
        let ms = (d.num_milliseconds() as f64 / self.0).ceil() as i64;
        chrono::Duration::milliseconds(ms.max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_policy_retries_for_at_least_a_day_and_at_most_two() {
        let p = STANDARD;
        let n = p.max_receive_count();
        assert!(p.shortest_span() >= Duration::from_secs(DAY), "{:?}", p.shortest_span());
        // One receive fewer would fall short of the budget: the count is the smallest.
        let one_fewer: Duration = (1..n - 1).map(|k| p.backoff.ceiling(k) / 2).sum();
        assert!(one_fewer < p.budget);
        assert!(p.longest_span() <= 2 * p.budget + p.backoff.max);
        assert!(n <= SQS_MAX_RECEIVE_COUNT);
    }

    #[test]
    fn standard_numbers_are_the_ones_the_template_holds() {
        // The numbers written in infra/template.yaml's RetryPolicy mapping.
        assert_eq!(STANDARD.max_receive_count(), 201);
        assert_eq!(STANDARD.retention(), Duration::from_secs(4 * DAY));
    }

    #[test]
    fn retention_covers_the_longest_schedule_with_a_day_to_spare() {
        let p = STANDARD;
        assert!(p.retention() >= p.longest_span() + Duration::from_secs(DAY));
        assert_eq!(p.retention().as_secs() % DAY, 0);
        let huge = RetryPolicy {
            budget: Duration::from_secs(30 * DAY),
            backoff: Backoff { base: Duration::from_secs(2), max: MAX_RETRY_AFTER },
            ..STANDARD
        };
        assert_eq!(huge.retention(), SQS_MAX_RETENTION);
    }

    #[test]
    fn a_wait_past_retention_is_caught() {
        let p = STANDARD;
        assert!(!p.outlives_retention(Duration::from_secs(DAY), Duration::from_secs(900)));
        assert!(p.outlives_retention(p.retention() - Duration::from_secs(HOUR), Duration::from_secs(60)));
    }

    #[test]
    fn time_scale_divides_durations_and_refuses_stretching() {
        let s = TimeScale::new(600.0).unwrap();
        assert_eq!(s.compress(Duration::from_secs(900)), Duration::from_millis(1500));
        assert_eq!(s.compress_chrono(chrono::Duration::seconds(120)), chrono::Duration::milliseconds(200));
        assert!(TimeScale::new(0.5).is_none());
        let mut env = Env::from_map([(TIME_SCALE_VAR.to_owned(), "0".to_owned())].into());
        assert_eq!(TimeScale::from_env(&mut env), TimeScale::REAL);
        assert!(env.finish().unwrap_err().to_string().contains(TIME_SCALE_VAR));
    }
}
