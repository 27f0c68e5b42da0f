//! What a running `local-stack up` leaves in `.local/`: its pid (for `stop`
//! and for refusing a second `up`) and its endpoints and resources (for `demo`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use local_stack::{JwtSettings, Provisioned};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StackState {
    pub pid: u32,
    pub emulator: String,
    pub proxy: String,
    pub http: String,
    pub invoke: String,
    /// The Zendesk and Notify fakes, when they run.
    #[serde(default)]
    pub zendesk: Option<String>,
    #[serde(default)]
    pub notify: Option<String>,
    /// The Amazon Connect fake, when it runs.
    #[serde(default)]
    pub connect: Option<String>,
    /// IoT Core's MQTT-over-WebSocket URL (`ws://127.0.0.1:4580/mqtt`).
    #[serde(default)]
    pub mqtt: Option<String>,
    /// The custom authorizer clients name (`x-amz-customauthorizer-name`).
    #[serde(default)]
    pub iot_authorizer: Option<String>,
    pub region: String,
    pub stack_name: String,
    pub jwt: JwtSettings,
    pub resources: Provisioned,
    /// The template's named principals (e.g. `approval-processor`) and their local
    /// credentials, to sign `AWS_IAM` routes and AWS calls as them. Local only:
    /// these keys exist in this stack alone.
    #[serde(default)]
    pub principals: BTreeMap<String, PrincipalKeys>,
}

/// One principal's local access key.
#[derive(Clone, Serialize, Deserialize)]
pub struct PrincipalKeys {
    pub role_arn: String,
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl std::fmt::Debug for PrincipalKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrincipalKeys")
            .field("role_arn", &self.role_arn)
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

impl StackState {
    /// A named principal's keys, or an error naming the ones there are.
    pub fn principal(&self, name: &str) -> anyhow::Result<&PrincipalKeys> {
        self.principals.get(name).with_context(|| {
            let known: Vec<&str> = self.principals.keys().map(String::as_str).collect();
            format!("no principal {name} in this stack (known: {})", known.join(", "))
        })
    }

    /// An HTTP client signing `AWS_IAM` requests as a named principal.
    pub fn signer(&self, http: &reqwest::Client, name: &str) -> anyhow::Result<local_stack::SigV4Client> {
        let keys = self.principal(name)?;
        Ok(local_stack::SigV4Client::new(http.clone(), &keys.access_key_id, &keys.secret_access_key, &self.region))
    }
}

pub fn local_dir(workspace: &Path) -> PathBuf {
    workspace.join(".local")
}

pub fn pid_file(workspace: &Path) -> PathBuf {
    local_dir(workspace).join("stack.pid")
}

pub fn state_file(workspace: &Path) -> PathBuf {
    local_dir(workspace).join("stack.json")
}

pub fn write(workspace: &Path, state: &StackState) -> anyhow::Result<()> {
    let dir = local_dir(workspace);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    std::fs::write(pid_file(workspace), format!("{}\n", state.pid)).context("writing the pid file")?;
    let json = serde_json::to_string_pretty(state).context("serialising the stack state")?;
    std::fs::write(state_file(workspace), json).context("writing the stack state")?;
    Ok(())
}

pub fn remove(workspace: &Path) {
    let _ = std::fs::remove_file(pid_file(workspace));
    let _ = std::fs::remove_file(state_file(workspace));
}

/// The pid in the pid file, if there is one.
pub fn recorded_pid(workspace: &Path) -> Option<u32> {
    std::fs::read_to_string(pid_file(workspace)).ok().and_then(|s| s.trim().parse().ok())
}

pub fn read(workspace: &Path) -> anyhow::Result<StackState> {
    let path = state_file(workspace);
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!("no local stack is running ({} is missing): start one with `local-stack up`", path.display())
    })?;
    serde_json::from_str(&text).with_context(|| format!("reading {}", path.display()))
}

/// Whether a process with this pid exists (Linux: /proc; signal 0 elsewhere).
pub fn is_alive(pid: u32) -> bool {
    if Path::new("/proc").is_dir() {
        // A pid left by a stack that was killed outright may since belong to another
        // program: only a live `local-stack` counts (and may be signalled).
        let exe = std::fs::read_link(format!("/proc/{pid}/exe"));
        return exe.is_ok_and(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("local-stack")));
    }
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: kill with signal 0 only checks for the process's existence.
    unsafe { libc::kill(pid, 0) == 0 }
}
