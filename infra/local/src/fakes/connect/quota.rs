//! DescribeContact's throttling quota, as Connect enforces it: a token bucket per
//! account and Region (a steady rate, and a burst the bucket holds), a request
//! without a token answered 429 `ThrottlingException`. The default is Connect's
//! documented default for its API operations, 2 requests a second with a burst of
//! 5 (the Service Quotas entry "Rate of DescribeContact API requests" may be set
//! higher for an account); `POST /__quota` changes it, `{"describe_contact_rps": null}`
//! turns it off.

use std::time::Instant;

use serde::{Deserialize, Serialize};

/// What `GET`/`POST /__quota` carry.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuotaConfig {
    /// Steady requests a second; None: no quota.
    pub describe_contact_rps: Option<f64>,
    /// Requests the bucket holds (default 5, as Connect's).
    #[serde(default = "default_burst")]
    pub burst: f64,
}

fn default_burst() -> f64 {
    5.0
}

impl Default for QuotaConfig {
    fn default() -> Self {
        Self { describe_contact_rps: Some(2.0), burst: default_burst() }
    }
}

impl QuotaConfig {
    pub fn validate(&self) -> Result<(), String> {
        if self.describe_contact_rps.is_some_and(|r| !(r > 0.0 && r <= 10_000.0)) {
            return Err("describe_contact_rps must be above 0 and at most 10000 (or null: no quota)".to_owned());
        }
        if !(self.burst >= 1.0 && self.burst <= 10_000.0) {
            return Err("burst must be between 1 and 10000".to_owned());
        }
        Ok(())
    }
}

/// The bucket.
#[derive(Debug)]
pub struct Quota {
    config: QuotaConfig,
    tokens: f64,
    refilled_at: Instant,
}

impl Quota {
    pub fn new(config: QuotaConfig, now: Instant) -> Self {
        Self { config, tokens: config.burst, refilled_at: now }
    }

    pub fn config(&self) -> QuotaConfig {
        self.config
    }

    /// Takes a token if there is one (true), else the request is throttled.
    pub fn admit(&mut self, now: Instant) -> bool {
        let Some(rps) = self.config.describe_contact_rps else {
            return true;
        };
        let elapsed = now.saturating_duration_since(self.refilled_at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * rps).min(self.config.burst);
        self.refilled_at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_burst_then_the_steady_rate() {
        let start = Instant::now();
        let mut quota = Quota::new(QuotaConfig::default(), start);
        let admitted = (0..10).filter(|_| quota.admit(start)).count();
        assert_eq!(admitted, 5, "the burst");
        assert!(!quota.admit(start + Duration::from_millis(400)));
        assert!(quota.admit(start + Duration::from_millis(500)), "one token every half second");
        assert!(!quota.admit(start + Duration::from_millis(600)));
        // Ten seconds idle refill the bucket to its burst, not beyond.
        let later = start + Duration::from_secs(10);
        assert_eq!((0..10).filter(|_| quota.admit(later)).count(), 5);
    }

    #[test]
    fn off_admits_everything_and_bad_settings_are_refused() {
        let start = Instant::now();
        let mut quota = Quota::new(QuotaConfig { describe_contact_rps: None, burst: 5.0 }, start);
        assert!((0..100).all(|_| quota.admit(start)));
        assert!(QuotaConfig { describe_contact_rps: Some(0.0), burst: 5.0 }.validate().is_err());
        assert!(QuotaConfig { describe_contact_rps: Some(2.0), burst: 0.5 }.validate().is_err());
        assert!(QuotaConfig::default().validate().is_ok());
    }
}
