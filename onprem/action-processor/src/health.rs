//! Whether the approval API answers: one circuit breaker shared by the poll loop
//! and every message task.
//!
//! Why a breaker: while the API is down, every receive of a decision counts towards
//! the FIFO queue's `maxReceiveCount`, so a few minutes of outage used to move
//! decisions to the DLQ. The first call that fails as an outage (network, 401/403,
//! 429/5xx, a 404 that is not the API's own) opens it: the poll loop stops receiving
//! and probes the API with backoff; messages already in hand wait, kept invisible by
//! their heartbeat, and carry on once a probe (or any call) gets an answer.
//!
//! Why loudly: an outage must page someone, not sit in a debug log. Opening logs an
//! ERROR with `api_unavailable = true` and the reason; each failed call counts in the
//! kit's `DependencyFailures` metric (`dependency = approval_api`); the health file
//! (`HEALTH_FILE`, read by `action-processor health`) says unhealthy until it closes.

use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{DateTime, Utc};
use kit::error::chain;
use kit::Classify;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use crate::api::ApiCallError;

/// The dependency name in the `DependencyFailures` metric.
pub const DEPENDENCY: &str = "approval_api";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiState {
    Up,
    Down {
        /// The failure's stable kind (`api_status`, `api_unreachable`, …).
        reason: &'static str,
        since: DateTime<Utc>,
        /// Failed calls and probes since it went down.
        failures: u64,
    },
}

impl ApiState {
    pub fn is_up(&self) -> bool {
        matches!(self, ApiState::Up)
    }
}

/// The breaker. Cheap to share (`Arc`); every method takes `&self`.
pub struct ApiHealth {
    state: watch::Sender<ApiState>,
    /// When it went down, for the "down for" figure when it comes back.
    down_at: std::sync::Mutex<Option<Instant>>,
}

impl Default for ApiHealth {
    fn default() -> Self {
        Self::new()
    }
}

impl ApiHealth {
    pub fn new() -> Self {
        Self { state: watch::Sender::new(ApiState::Up), down_at: std::sync::Mutex::new(None) }
    }

    pub fn state(&self) -> ApiState {
        self.state.borrow().clone()
    }

    pub fn is_up(&self) -> bool {
        self.state.borrow().is_up()
    }

    pub fn subscribe(&self) -> watch::Receiver<ApiState> {
        self.state.subscribe()
    }

    /// A call failed as an outage: opens the breaker (ERROR once, on opening) and
    /// counts the failure.
    pub fn failed(&self, e: &ApiCallError) {
        kit::metrics::dependency_failed(DEPENDENCY);
        // The processor is not a Lambda: no invocation end flushes the metrics.
        kit::metrics::flush();
        let reason = e.kind();
        let opened = self.state.send_if_modified(|s| match s {
            ApiState::Up => {
                *s = ApiState::Down { reason, since: Utc::now(), failures: 1 };
                true
            }
            ApiState::Down { reason: r, failures, .. } => {
                *r = reason;
                *failures += 1;
                false
            }
        });
        if opened {
            if let Ok(mut at) = self.down_at.lock() {
                *at = Some(Instant::now());
            }
            error!(
                api_unavailable = true,
                reason,
                error = %chain(e),
                "the approval API is unavailable: polling paused, nothing deleted, probing until it answers"
            );
        }
    }

    /// A call got an answer from the API itself: closes the breaker.
    pub fn answered(&self) {
        let closed = self.state.send_if_modified(|s| {
            let was_down = !s.is_up();
            *s = ApiState::Up;
            was_down
        });
        if closed {
            let down_for = self.down_at.lock().ok().and_then(|mut at| at.take()).map(|t| t.elapsed().as_secs());
            warn!(api_unavailable = false, down_for_secs = down_for, "the approval API answers again: polling resumes");
        }
    }

    /// Returns once the breaker is closed (at once if it is).
    pub async fn until_up(&self) {
        // Err only if the sender is gone, and `self` holds it.
        let _ = self.subscribe().wait_for(ApiState::is_up).await;
    }

    /// Returns once the breaker is open (at once if it is).
    pub async fn until_down(&self) {
        let _ = self.subscribe().wait_for(|s| !s.is_up()).await;
    }

    /// Waits until the breaker is closed; false if `cancel` fired first.
    pub async fn wait_up(&self, cancel: &CancellationToken) -> bool {
        let mut rx = self.subscribe();
        tokio::select! {
            r = rx.wait_for(ApiState::is_up) => r.is_ok(),
            () = cancel.cancelled() => false,
        }
    }
}

/// What the health file holds (JSON, one object).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthReport {
    pub healthy: bool,
    pub api_unavailable: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<DateTime<Utc>>,
    /// False once the processor has stopped (a clean exit is not healthy either).
    pub running: bool,
}

impl HealthReport {
    pub fn of(state: &ApiState, running: bool) -> Self {
        match state {
            ApiState::Up => Self { healthy: running, api_unavailable: false, reason: None, since: None, running },
            ApiState::Down { reason, since, .. } => Self {
                healthy: false,
                api_unavailable: true,
                reason: Some((*reason).to_owned()),
                since: Some(*since),
                running,
            },
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HealthFileError {
    #[error("cannot write the health file {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read the health file {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the health file {path} is not a health report: {source}")]
    Parse {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}

/// Writes the report atomically (temporary file, then rename): a reader never sees
/// half a file.
pub fn write_report(path: &Path, report: &HealthReport) -> Result<(), HealthFileError> {
    let write = |source| HealthFileError::Write { path: path.to_owned(), source };
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let body = serde_json::to_vec(report).map_err(|e| write(std::io::Error::other(e)))?;
    std::fs::write(&tmp, body).map_err(write)?;
    std::fs::rename(&tmp, path).map_err(write)
}

pub fn read_report(path: &Path) -> Result<HealthReport, HealthFileError> {
    let bytes = std::fs::read(path).map_err(|source| HealthFileError::Read { path: path.to_owned(), source })?;
    serde_json::from_slice(&bytes).map_err(|source| HealthFileError::Parse { path: path.to_owned(), source })
}

/// Keeps the health file in step with the breaker until `done` fires, then marks it
/// not running. Write errors are logged, never fatal: health must not stop the work.
pub async fn publish(health: std::sync::Arc<ApiHealth>, path: PathBuf, done: CancellationToken) {
    let mut rx = health.subscribe();
    loop {
        let report = HealthReport::of(&rx.borrow_and_update().clone(), true);
        if let Err(e) = write_report(&path, &report) {
            warn!(error = %chain(&e), "could not write the health file");
        }
        tokio::select! {
            changed = rx.changed() => if changed.is_err() { break },
            () = done.cancelled() => break,
        }
    }
    if let Err(e) = write_report(&path, &HealthReport::of(&health.state(), false)) {
        warn!(error = %chain(&e), "could not write the health file");
    }
    info!("health file marked stopped");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_outage_opens_the_breaker_once_and_an_answer_closes_it() {
        let h = ApiHealth::new();
        assert!(h.is_up());
        h.failed(&ApiCallError::Status { status: 503 });
        h.failed(&ApiCallError::Transport("refused".into()));
        match h.state() {
            ApiState::Down { reason, failures, .. } => assert_eq!((reason, failures), ("api_unreachable", 2)),
            up => panic!("{up:?}"),
        }
        let cancel = CancellationToken::new();
        let (came_back, ()) = tokio::join!(h.wait_up(&cancel), async { h.answered() });
        assert!(came_back);
        assert!(h.is_up());
        assert!(h.wait_up(&cancel).await, "already up: no wait");
    }

    #[tokio::test]
    async fn waiting_for_the_api_ends_on_cancel() {
        let h = ApiHealth::new();
        h.failed(&ApiCallError::Status { status: 502 });
        let cancel = CancellationToken::new();
        cancel.cancel();
        assert!(!h.wait_up(&cancel).await);
    }

    #[test]
    fn the_health_file_says_unhealthy_while_the_api_is_down_and_after_a_stop() {
        let dir = std::env::temp_dir().join(format!("processor-health-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("health.json");
        let h = ApiHealth::new();
        write_report(&path, &HealthReport::of(&h.state(), true)).unwrap();
        assert!(read_report(&path).unwrap().healthy);
        h.failed(&ApiCallError::UnknownRoute);
        write_report(&path, &HealthReport::of(&h.state(), true)).unwrap();
        let report = read_report(&path).unwrap();
        assert!(!report.healthy && report.api_unavailable, "{report:?}");
        assert_eq!(report.reason.as_deref(), Some("api_not_found_route"));
        h.answered();
        write_report(&path, &HealthReport::of(&h.state(), false)).unwrap();
        assert!(!read_report(&path).unwrap().healthy, "stopped is not healthy");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
