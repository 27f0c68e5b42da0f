//! Retry spacing: the visibility timeout a failed record gets before it comes back.

use std::time::Duration;

/// Exponential backoff with jitter, applied per receive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The wait after the first failed receive.
    pub base: Duration,
    /// The longest wait (SQS caps it at 12 hours anyway).
    pub max: Duration,
}

/// SQS refuses visibility timeouts above 12 hours.
const SQS_MAX_VISIBILITY: Duration = Duration::from_secs(12 * 60 * 60);

impl Default for Backoff {
    fn default() -> Self {
        Self { base: Duration::from_secs(2), max: Duration::from_secs(15 * 60) }
    }
}

impl Backoff {
    /// The un-jittered delay for the `attempt`-th receive (1-based): base, 2·base, 4·base, … capped.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let exp = attempt.saturating_sub(1).min(30);
        let delay = self.base.saturating_mul(1u32 << exp);
        delay.min(self.max).min(SQS_MAX_VISIBILITY)
    }

    /// "Equal jitter": half the ceiling fixed, half random, so retries of records that
    /// failed together spread out but never come back immediately. `unit` is a
    /// uniform sample in [0, 1).
    pub fn delay(&self, attempt: u32, unit: f64) -> Duration {
        let ceiling = self.ceiling(attempt);
        let half = ceiling / 2;
        let unit = unit.clamp(0.0, 1.0);
        half + half.mul_f64(unit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceiling_doubles_per_attempt_and_caps() {
        let b = Backoff { base: Duration::from_secs(2), max: Duration::from_secs(60) };
        assert_eq!(b.ceiling(1), Duration::from_secs(2));
        assert_eq!(b.ceiling(2), Duration::from_secs(4));
        assert_eq!(b.ceiling(4), Duration::from_secs(16));
        assert_eq!(b.ceiling(10), Duration::from_secs(60));
        assert_eq!(b.ceiling(u32::MAX), Duration::from_secs(60));
    }

    #[test]
    fn jitter_stays_between_half_and_full_ceiling() {
        let b = Backoff::default();
        for attempt in 1..8 {
            let c = b.ceiling(attempt);
            assert_eq!(b.delay(attempt, 0.0), c / 2);
            assert!(b.delay(attempt, 0.999) <= c);
            assert!(b.delay(attempt, 0.5) > c / 2);
        }
    }
}
