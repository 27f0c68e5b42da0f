//! Where a function's init clock starts: the instant before `execve`, read in
//! the forked child and handed back to the service through a pipe.
//!
//! Lambda's Init Duration runs from the start of the runtime process to its
//! first `/next`. Timing from the service's side of `spawn` would add what only
//! the local stack pays: forking the stack's own large, multi-threaded process
//! (the parent-death signal in `crate::child` needs a `pre_exec` hook, so the
//! standard library cannot take the cheaper `posix_spawn` path): 0.6 ms median
//! and up to 4.7 ms, logged as `spawn_us` (docs/local-stack.md).

use std::time::Instant;

use tokio::process::Command;

/// The read end of the pipe the child writes its pre-exec instant to.
pub struct ExecClock {
    #[cfg(target_os = "linux")]
    pipe: Option<(std::os::fd::OwnedFd, std::os::fd::OwnedFd)>,
}

impl ExecClock {
    /// Adds the hook to `command`. Without a pipe (or off Linux) the clock falls
    /// back to the moment of `spawn`, which only overstates init.
    pub fn arm(command: &mut Command) -> Self {
        #[cfg(target_os = "linux")]
        {
            let Some((read, write)) = pipe() else { return Self { pipe: None } };
            let fd = std::os::fd::AsRawFd::as_raw_fd(&write);
            // SAFETY: the closure runs in the forked child before exec and calls
            // only async-signal-safe functions (clock_gettime, write). The write
            // end is close-on-exec, so the program itself never sees it.
            unsafe {
                command.pre_exec(move || {
                    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
                    if libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) == 0 {
                        let bytes = encode(&now);
                        // A short or failed write only loses the measure.
                        let _ = libc::write(fd, bytes.as_ptr().cast(), bytes.len());
                    }
                    Ok(())
                });
            }
            Self { pipe: Some((read, write)) }
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = command;
            Self {}
        }
    }

    /// After a successful `spawn` (which returns once `execve` has succeeded, so
    /// the child has written): when the process started, as an `Instant`.
    pub fn started(self) -> Option<Instant> {
        #[cfg(target_os = "linux")]
        {
            use std::io::Read as _;
            let (read, write) = self.pipe?;
            // Our copy of the write end closes, so a child that never wrote
            // gives end-of-file rather than a read that waits.
            drop(write);
            let mut bytes = [0u8; 16];
            std::fs::File::from(read).read_exact(&mut bytes).ok()?;
            let exec = decode(&bytes);
            let instant_now = Instant::now();
            let mut mono_now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
            // SAFETY: clock_gettime writes into the timespec we own.
            if unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut mono_now) } != 0 {
                return None;
            }
            instant_now.checked_sub(since(&exec, &mono_now)?)
        }
        #[cfg(not(target_os = "linux"))]
        {
            None
        }
    }
}

#[cfg(target_os = "linux")]
fn pipe() -> Option<(std::os::fd::OwnedFd, std::os::fd::OwnedFd)> {
    use std::os::fd::FromRawFd as _;
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills the two-element array we own; on success both fds are
    // new and owned by nobody else.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return None;
    }
    // SAFETY: as above, the fds were just created and are handed to one owner each.
    Some(unsafe { (std::os::fd::OwnedFd::from_raw_fd(fds[0]), std::os::fd::OwnedFd::from_raw_fd(fds[1])) })
}

// time_t and c_long are 32 bits on some targets: the conversions are not useless there.
#[allow(clippy::useless_conversion)]
fn encode(t: &libc::timespec) -> [u8; 16] {
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&i64::from(t.tv_sec).to_ne_bytes());
    out[8..].copy_from_slice(&i64::from(t.tv_nsec).to_ne_bytes());
    out
}

fn decode(bytes: &[u8; 16]) -> (i64, i64) {
    let mut sec = [0u8; 8];
    let mut nsec = [0u8; 8];
    sec.copy_from_slice(&bytes[..8]);
    nsec.copy_from_slice(&bytes[8..]);
    (i64::from_ne_bytes(sec), i64::from_ne_bytes(nsec))
}

/// `now − then` for two CLOCK_MONOTONIC readings; `None` if `then` is later.
#[allow(clippy::useless_conversion)]
fn since(then: &(i64, i64), now: &libc::timespec) -> Option<std::time::Duration> {
    let nanos =
        (i128::from(now.tv_sec) - i128::from(then.0)) * 1_000_000_000 + i128::from(now.tv_nsec) - i128::from(then.1);
    u64::try_from(nanos).ok().map(std::time::Duration::from_nanos)
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn a_reading_round_trips_and_differences_are_exact() {
        let then = libc::timespec { tv_sec: 7, tv_nsec: 999_999_000 };
        let now = libc::timespec { tv_sec: 8, tv_nsec: 1_000 };
        assert_eq!(decode(&encode(&then)), (7, 999_999_000));
        assert_eq!(since(&(7, 999_999_000), &now), Some(std::time::Duration::from_micros(2)));
        assert_eq!(since(&(9, 0), &now), None, "a start after now is no start");
    }

    #[tokio::test]
    async fn the_clock_starts_in_the_child_after_the_parent_called_spawn() {
        let mut command = Command::new("true");
        let clock = ExecClock::arm(&mut command);
        let before_spawn = Instant::now();
        let mut child = command.spawn().expect("spawn true");
        let after_spawn = Instant::now();
        let started = clock.started().expect("the child wrote its pre-exec instant");
        assert!(started >= before_spawn, "{started:?} is before spawn was called ({before_spawn:?})");
        assert!(started <= after_spawn, "{started:?} is after spawn returned ({after_spawn:?})");
        assert!(child.wait().await.expect("wait").success());
    }
}
