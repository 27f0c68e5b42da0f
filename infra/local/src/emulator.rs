//! The AWS emulator (moto server) as a child process with a readiness wait.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tracing::{debug, info};

use crate::child::tie_to_parent;

/// How long moto may take to answer (about 1 s here; CI under load is slower).
const READY_DEADLINE: Duration = Duration::from_secs(30);
const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// The launcher script, run with the venv's python (`python -c`).
const MOTO_LAUNCHER: &str = include_str!("../moto_server.py");

#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error("the emulator is not installed: {0} is missing (run `make venv` or install moto[server] into the venv)")]
    NotInstalled(PathBuf),
    #[error("cannot start {path}")]
    Spawn {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the emulator exited during start-up ({status}); last output: {output}")]
    Exited { status: String, output: String },
    #[error("the emulator did not answer on {endpoint} within {timeout:?}")]
    NotReady { endpoint: String, timeout: Duration },
    #[error("emulator request {what} failed")]
    Request {
        what: &'static str,
        #[source]
        source: reqwest::Error,
    },
}

/// A running emulator. Killed on drop; `stop()` kills and waits.
#[derive(Debug)]
pub struct Emulator {
    child: Option<Child>,
    endpoint: String,
    port: u16,
    http: reqwest::Client,
    started_in: Duration,
}

impl Emulator {
    /// The `moto_server` script inside a venv.
    pub fn binary(venv: &Path) -> PathBuf {
        venv.join("bin").join("moto_server")
    }

    /// The venv's interpreter, which runs the launcher.
    pub fn python(venv: &Path) -> PathBuf {
        venv.join("bin").join("python")
    }

    pub fn is_installed(venv: &Path) -> bool {
        Self::binary(venv).is_file()
    }

    /// Starts moto server on 127.0.0.1 (a free port when `port` is `None`) and
    /// waits, polling with a deadline, until it answers HTTP.
    pub async fn start(venv: &Path, port: Option<u16>) -> Result<Self, EmulatorError> {
        let binary = Self::binary(venv);
        if !binary.is_file() {
            return Err(EmulatorError::NotInstalled(binary));
        }
        let started = Instant::now();
        // moto's own server, started through our launcher, which gives DynamoDB its
        // item-level atomicity back (see infra/local/moto_server.py for why).
        let mut command = Command::new(Self::python(venv));
        command
            .args(["-c", MOTO_LAUNCHER, "-H", "127.0.0.1", "-p", &port.unwrap_or(0).to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        tie_to_parent(&mut command);
        let mut child = command.spawn().map_err(|source| EmulatorError::Spawn { path: Self::python(venv), source })?;
        // moto logs every request; keep it at debug level, and the last lines
        // for the error message if start-up fails.
        let recent = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
        // The launcher binds first and then says which port it got: no other
        // process can take the port between choosing and binding.
        let (bound_tx, mut bound_rx) = tokio::sync::mpsc::channel::<u16>(1);
        if let Some(out) = child.stdout.take() {
            tokio::spawn(drain(out, recent.clone(), Some(bound_tx)));
        }
        if let Some(err) = child.stderr.take() {
            tokio::spawn(drain(err, recent.clone(), None));
        }
        let deadline = started + READY_DEADLINE;
        let port = loop {
            if let Ok(Some(status)) = child.try_wait() {
                let output = recent.lock().map(|l| l.join("\n")).unwrap_or_default();
                return Err(EmulatorError::Exited { status: status.to_string(), output });
            }
            match tokio::time::timeout(POLL_INTERVAL, bound_rx.recv()).await {
                Ok(Some(port)) => break port,
                Ok(None) | Err(_) if Instant::now() >= deadline => {
                    return Err(EmulatorError::NotReady {
                        endpoint: "127.0.0.1 (port not reported)".to_owned(),
                        timeout: READY_DEADLINE,
                    });
                }
                _ => {}
            }
        };
        let endpoint = format!("http://127.0.0.1:{port}");
        let http = kit::http::client().map_err(|source| EmulatorError::Request { what: "client", source })?;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                let output = recent.lock().map(|l| l.join("\n")).unwrap_or_default();
                return Err(EmulatorError::Exited { status: status.to_string(), output });
            }
            let probe = http.get(format!("{endpoint}/moto-api/")).timeout(Duration::from_secs(1)).send().await;
            if probe.is_ok() {
                break;
            }
            if Instant::now() >= deadline {
                return Err(EmulatorError::NotReady { endpoint, timeout: READY_DEADLINE });
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
        let started_in = started.elapsed();
        info!(%endpoint, ?started_in, "emulator ready");
        Ok(Self { child: Some(child), endpoint, port, http, started_in })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The emulator's process id (while it runs), e.g. to read its memory from /proc.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(Child::id)
    }

    /// Spawn → first answer.
    pub fn started_in(&self) -> Duration {
        self.started_in
    }

    /// Forgets every resource and message (`POST /moto-api/reset`).
    pub async fn reset(&self) -> Result<(), EmulatorError> {
        reset(&self.http, &self.endpoint).await
    }

    /// Kills the emulator and waits for it to exit.
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // Errors here mean the process already exited.
            if let Err(e) = child.start_kill() {
                debug!(error = %e, "emulator already exited");
            }
            if let Err(e) = child.wait().await {
                debug!(error = %e, "could not reap the emulator");
            }
            debug!(endpoint = %self.endpoint, "emulator stopped");
        }
    }
}

/// Resets an emulator at any endpoint (also one this process did not start).
pub async fn reset(http: &reqwest::Client, endpoint: &str) -> Result<(), EmulatorError> {
    http.post(format!("{}/moto-api/reset", endpoint.trim_end_matches('/')))
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|source| EmulatorError::Request { what: "reset", source })?;
    Ok(())
}

async fn drain<R>(
    reader: R,
    recent: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    mut bound: Option<tokio::sync::mpsc::Sender<u16>>,
) where
    R: tokio::io::AsyncRead + Unpin,
{
    const KEEP: usize = 20;
    let mut lines = BufReader::new(reader).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if let Some(port) = line.strip_prefix("moto listening on ").and_then(|a| a.rsplit(':').next()?.parse().ok()) {
            if let Some(tx) = bound.take() {
                // The receiver only goes away once start() has given up.
                if tx.send(port).await.is_err() {
                    tracing::debug!("emulator port reported after start-up gave up");
                }
            }
        }
        tracing::trace!(target: "local_stack::emulator", "{line}");
        if let Ok(mut recent) = recent.lock() {
            if recent.len() == KEEP {
                recent.remove(0);
            }
            recent.push(line);
        }
    }
}
