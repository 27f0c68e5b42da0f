//! Cold init of a function's real release binary: its process is killed (SIGKILL,
//! as Lambda drops an execution environment) and the local Lambda service starts a
//! new one, recording process start (the instant before `execve`) → first Runtime
//! API poll (`/next`). One function at a time, so the figure is not twenty
//! processes starting at once on a small machine (the stack's own start, which is
//! left out).

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use local_stack::LocalStack;

use crate::pipeline::pid_of;

/// How long a restarted process may take to reach `/next`.
const READY_WITHIN: Duration = Duration::from_secs(30);

fn inits(stack: &LocalStack, logical_id: &str) -> Vec<Duration> {
    stack.init_durations().remove(logical_id).unwrap_or_default()
}

/// SIGKILL to one function process the stack started (found by its binary's path).
fn kill(pid: u32) -> anyhow::Result<()> {
    let pid = libc::pid_t::try_from(pid)?;
    // SAFETY: kill(2) takes plain integers; the pid is a child of this process's
    // local stack, found by its executable a moment ago.
    if unsafe { libc::kill(pid, libc::SIGKILL) } != 0 {
        anyhow::bail!("kill {pid}: {}", std::io::Error::last_os_error());
    }
    Ok(())
}

/// Init times in ms of `restarts` fresh processes of the function.
pub async fn measure(
    stack: &LocalStack,
    binary_path: &Path,
    logical_id: &str,
    restarts: usize,
) -> anyhow::Result<Vec<f64>> {
    let mut out = Vec::with_capacity(restarts);
    for _ in 0..restarts {
        let before = inits(stack, logical_id).len();
        let pid = pid_of(binary_path).with_context(|| format!("no process of {}", binary_path.display()))?;
        kill(pid)?;
        let deadline = Instant::now() + READY_WITHIN;
        loop {
            let now = inits(stack, logical_id);
            if now.len() > before {
                out.extend(now.last().map(|d| d.as_secs_f64() * 1e3));
                break;
            }
            anyhow::ensure!(Instant::now() < deadline, "{logical_id}: no new process ready in {READY_WITHIN:?}");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    Ok(out)
}
