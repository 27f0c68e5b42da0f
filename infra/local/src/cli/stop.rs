//! `local-stack stop`: SIGTERM to the stack's pid, then wait for it to go.

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use super::state;

const WAIT: Duration = Duration::from_secs(20);

pub async fn run(workspace: &Path) -> anyhow::Result<ExitCode> {
    let Some(pid) = state::recorded_pid(workspace) else {
        println!("No local stack is running (no {}).", state::pid_file(workspace).display());
        return Ok(ExitCode::SUCCESS);
    };
    if !state::is_alive(pid) {
        state::remove(workspace);
        println!("No local stack is running (removed a stale pid file for pid {pid}).");
        return Ok(ExitCode::SUCCESS);
    }
    let Ok(raw) = libc::pid_t::try_from(pid) else {
        anyhow::bail!("pid {pid} out of range");
    };
    // SAFETY: sends SIGTERM to one pid read from our own pid file; no memory is shared.
    if unsafe { libc::kill(raw, libc::SIGTERM) } != 0 {
        anyhow::bail!("cannot signal pid {pid}: {}", std::io::Error::last_os_error());
    }
    let deadline = Instant::now() + WAIT;
    while state::is_alive(pid) {
        if Instant::now() >= deadline {
            println!("The local stack (pid {pid}) did not stop within {WAIT:?}.");
            return Ok(ExitCode::FAILURE);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!("Stopped the local stack (pid {pid}).");
    Ok(ExitCode::SUCCESS)
}
