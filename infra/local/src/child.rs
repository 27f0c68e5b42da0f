//! Child-process hygiene shared by the emulator and the function processes:
//! children must never outlive the stack that started them.

use tokio::process::Command;

/// Makes the child die with us: `kill_on_drop` covers every normal path (drop,
/// panic unwinding, runtime shutdown); on Linux the parent-death signal also
/// covers the runner being killed outright (SIGKILL, a crashed test binary),
/// where no destructor runs.
pub fn tie_to_parent(command: &mut Command) {
    command.kill_on_drop(true);
    #[cfg(target_os = "linux")]
    {
        // SAFETY: the closure runs in the forked child before exec and only
        // calls async-signal-safe functions (prctl, getppid, _exit).
        let parent = std::process::id();
        unsafe {
            command.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // The parent may have died between fork and prctl.
                if u32::try_from(libc::getppid()).ok() != Some(parent) {
                    libc::_exit(1);
                }
                Ok(())
            });
        }
    }
}
