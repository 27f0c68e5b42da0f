//! One function's process lifecycle: spawn, serve, recycle on timeout, restart
//! on crash (with a backoff while init keeps failing), stop on shutdown.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::net::TcpListener;
use tokio::process::{Child, Command};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::env::{environment, LaunchSettings};
use super::exec_clock::ExecClock;
use super::runtime_api::{router, InstanceEvent, InstanceState};
use super::{service_error, FunctionShared, Readiness};
use crate::child::tie_to_parent;

const BACKOFF_START: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);

/// How one process ended.
enum InstanceEnd {
    /// Served invocations, then exited or was recycled: restart at once.
    Recycled,
    /// Never reached `/next`: fail one queued invocation, back off, retry.
    InitFailed(Value),
    /// The stack is stopping.
    Shutdown,
}

/// Keeps one process of the function running until `cancel`.
pub async fn supervise(
    function: Arc<FunctionShared>,
    binary: PathBuf,
    settings: LaunchSettings,
    cancel: CancellationToken,
) {
    let mut failures: u32 = 0;
    loop {
        match run_instance(&function, &binary, &settings, &cancel).await {
            InstanceEnd::Shutdown => break,
            InstanceEnd::Recycled => failures = 0,
            InstanceEnd::InitFailed(error) => {
                failures = failures.saturating_add(1);
                if !matches!(*function.readiness.borrow(), Readiness::Ready) {
                    function.readiness.send_replace(Readiness::Failed(error.to_string()));
                }
                function.fail_one_queued(&error);
                let delay = backoff(failures);
                warn!(function = %function.spec.logical_id, ?delay, failures, "init failed; restarting after a backoff");
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    () = cancel.cancelled() => break,
                }
            }
        }
        if cancel.is_cancelled() {
            break;
        }
    }
    function.close().await;
}

fn backoff(failures: u32) -> Duration {
    let factor = 2u32.saturating_pow(failures.saturating_sub(1).min(16));
    BACKOFF_START.saturating_mul(factor).min(BACKOFF_MAX)
}

async fn run_instance(
    function: &Arc<FunctionShared>,
    binary: &PathBuf,
    settings: &LaunchSettings,
    cancel: &CancellationToken,
) -> InstanceEnd {
    let id = function.spec.logical_id.clone();
    // A fresh runtime API per process: when the process goes, its server goes,
    // and with it any `/next` still waiting (so no invocation is taken by a
    // dead process).
    let listener = match TcpListener::bind(("127.0.0.1", 0)).await {
        Ok(l) => l,
        Err(e) => return InstanceEnd::InitFailed(service_error("Runtime.Unknown", None, &e.to_string())),
    };
    let port = match listener.local_addr() {
        Ok(a) => a.port(),
        Err(e) => return InstanceEnd::InitFailed(service_error("Runtime.Unknown", None, &e.to_string())),
    };
    let (events_tx, mut events) = mpsc::unbounded_channel();
    let state = Arc::new(InstanceState::new(function.clone(), events_tx));
    let app = router(state.clone());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let log_stream = format!("{}/[$LATEST]{}", chrono::Utc::now().format("%Y/%m/%d"), uuid::Uuid::new_v4().simple());
    let mut command = Command::new(binary);
    command
        .env_clear()
        .envs(environment(&function.spec, settings, port, &log_stream))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    tie_to_parent(&mut command);
    let clock = ExecClock::arm(&mut command);
    let spawn_called = Instant::now();
    let mut child = match command.spawn() {
        Ok(c) => c,
        Err(e) => {
            server.abort();
            let message = format!("cannot start {}: {e}", binary.display());
            return InstanceEnd::InitFailed(service_error("Runtime.InvalidEntrypoint", None, &message));
        }
    };
    let started = clock.started().unwrap_or(spawn_called);
    // What the service's own fork cost before the program began (not init).
    let spawn_us = started.saturating_duration_since(spawn_called).as_micros() as u64;
    info!(function = %id, pid = child.id(), runtime_api = port, spawn_us, "function process started");
    forward_output(function, &mut child);

    let end = loop {
        tokio::select! {
            status = child.wait() => {
                let status = status.map_or_else(|e| e.to_string(), |s| s.to_string());
                let message = format!("Runtime exited with error: {status}");
                warn!(function = %id, %status, "function process exited");
                state.fail_in_flight("Runtime.ExitError", &message);
                break if state.is_initialised() {
                    InstanceEnd::Recycled
                } else {
                    InstanceEnd::InitFailed(service_error("Runtime.ExitError", None, &message))
                };
            }
            Some(event) = events.recv() => match event {
                InstanceEvent::Ready(at) => {
                    let duration = at.saturating_duration_since(started);
                    info!(function = %id, init_ms = duration.as_millis() as u64, "function ready");
                    function.record_init(duration);
                }
                InstanceEvent::TimedOut(request_id) => {
                    info!(function = %id, %request_id, "recycling the process after a timeout");
                    kill(&mut child).await;
                    break InstanceEnd::Recycled;
                }
                InstanceEvent::InitError(error) => {
                    kill(&mut child).await;
                    break InstanceEnd::InitFailed(error);
                }
            },
            () = cancel.cancelled() => {
                kill(&mut child).await;
                state.fail_in_flight("Runtime.ExitError", "the local stack is stopping");
                break InstanceEnd::Shutdown;
            }
        }
    };
    server.abort();
    state.fail_in_flight("Runtime.ExitError", "Runtime exited");
    end
}

/// Kills and reaps the process. Failures mean it is already gone: nothing to do.
async fn kill(child: &mut Child) {
    if let Err(e) = child.start_kill() {
        tracing::debug!(error = %e, "kill: process already exited");
    }
    if let Err(e) = child.wait().await {
        tracing::debug!(error = %e, "could not reap the function process");
    }
}

/// Copies the process's stdout and stderr, line by line, into the function's log.
fn forward_output(function: &Arc<FunctionShared>, child: &mut Child) {
    if let Some(out) = child.stdout.take() {
        tokio::spawn(forward_lines(function.clone(), out));
    }
    if let Some(err) = child.stderr.take() {
        tokio::spawn(forward_lines(function.clone(), err));
    }
}

async fn forward_lines<R: AsyncRead + Unpin>(function: Arc<FunctionShared>, reader: R) {
    let mut lines = BufReader::new(reader).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        function.log_line(line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_a_cap() {
        assert_eq!(backoff(1), Duration::from_millis(100));
        assert_eq!(backoff(2), Duration::from_millis(200));
        assert_eq!(backoff(4), Duration::from_millis(800));
        assert_eq!(backoff(30), BACKOFF_MAX);
    }
}
