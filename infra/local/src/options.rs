//! What to start, and where: defaults that suit tests (ephemeral ports, a
//! private emulator), and the contract ports the CLI uses.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::http_api::jwt::DEFAULT_JWT_SECRET;

/// The ports `local-stack up` promises developers.
pub const CONTRACT_EMULATOR_PORT: u16 = 4566;
pub const CONTRACT_HTTP_PORT: u16 = 3000;
pub const CONTRACT_INVOKE_PORT: u16 = 3001;
pub const CONTRACT_ZENDESK_PORT: u16 = 4571;
pub const CONTRACT_NOTIFY_PORT: u16 = 4572;
pub const CONTRACT_CONNECT_PORT: u16 = 4573;
/// IoT Core's MQTT over WebSocket: `ws://127.0.0.1:4580/mqtt`.
pub const CONTRACT_IOT_PORT: u16 = 4580;
pub const DEFAULT_REGION: &str = "eu-west-2";
pub const DEFAULT_STACK_NAME: &str = "local";

/// Where the AWS emulator comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmulatorMode {
    /// Start moto server from the venv, on this port or a free one.
    Spawn { port: Option<u16> },
    /// Use an emulator already running at this endpoint (not stopped with the stack).
    Existing { endpoint: String },
}

/// Everything `LocalStack::start` needs to know.
#[derive(Debug, Clone)]
pub struct StackOptions {
    pub workspace: PathBuf,
    pub template: PathBuf,
    /// `AWS::StackName`: prefixes every resource name.
    pub stack_name: String,
    pub region: String,
    /// The Python venv holding `bin/moto_server`.
    pub venv: PathBuf,
    pub emulator: EmulatorMode,
    /// Where function binaries are (`<target>/debug`).
    pub bin_dir: PathBuf,
    /// HTTP API address; port 0 picks a free port.
    pub http_addr: SocketAddr,
    /// Lambda Invoke API address; port 0 picks a free port.
    pub invoke_addr: SocketAddr,
    pub jwt_secret: String,
    /// Extra environment for every function process, applied last.
    pub extra_env: BTreeMap<String, String>,
    pub parameter_overrides: BTreeMap<String, String>,
    /// Start function processes (and the pollers, schedules and servers that feed them).
    pub run_functions: bool,
    /// Poll SQS event sources (needs `run_functions`).
    pub run_pollers: bool,
    /// Fire schedules at their marks (needs `run_functions`).
    pub run_schedules: bool,
    /// Put the fault proxy between functions and the emulator.
    pub fault_proxy: bool,
    /// Serve the Zendesk and GOV.UK Notify fakes and point the template at them.
    pub fakes: bool,
    /// Zendesk fake address; port 0 picks a free port.
    pub zendesk_addr: SocketAddr,
    /// GOV.UK Notify fake address; port 0 picks a free port.
    pub notify_addr: SocketAddr,
    /// Amazon Connect fake address; port 0 picks a free port.
    pub connect_addr: SocketAddr,
    /// IoT Core's MQTT-over-WebSocket address; port 0 picks a free port.
    pub iot_addr: SocketAddr,
    /// Secrets Manager secrets to create (name → string value), after those
    /// the fakes need, so a name here wins.
    pub secrets: BTreeMap<String, String>,
    /// Copy function output to stdout as `[name] line`.
    pub echo_function_logs: bool,
    /// How long `start` waits for every function's first `/next`.
    pub ready_timeout: Duration,
    /// Every retry duration divided by this factor (1: real time). See
    /// [`StackOptions::with_time_scale`].
    pub time_scale: kit::retry::TimeScale,
}

impl Default for StackOptions {
    fn default() -> Self {
        Self::for_workspace(find_workspace_root())
    }
}

impl StackOptions {
    /// Defaults for a workspace: its template, venv and debug binaries, a
    /// private emulator on a free port, ephemeral HTTP and Invoke ports.
    pub fn for_workspace(root: impl Into<PathBuf>) -> Self {
        let workspace: PathBuf = root.into();
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .map(|t| if t.is_absolute() { t } else { workspace.join(t) })
            .unwrap_or_else(|| workspace.join("target"));
        let ephemeral = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        Self {
            template: workspace.join("infra").join("template.yaml"),
            stack_name: DEFAULT_STACK_NAME.to_owned(),
            region: DEFAULT_REGION.to_owned(),
            venv: workspace.join(".venv"),
            emulator: EmulatorMode::Spawn { port: None },
            bin_dir: target.join("debug"),
            http_addr: ephemeral,
            invoke_addr: ephemeral,
            jwt_secret: std::env::var("LOCAL_JWT_SECRET")
                .ok()
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| DEFAULT_JWT_SECRET.to_owned()),
            extra_env: BTreeMap::new(),
            parameter_overrides: BTreeMap::new(),
            run_functions: true,
            run_pollers: true,
            run_schedules: true,
            fault_proxy: true,
            fakes: true,
            zendesk_addr: ephemeral,
            notify_addr: ephemeral,
            connect_addr: ephemeral,
            iot_addr: ephemeral,
            secrets: BTreeMap::new(),
            echo_function_logs: true,
            ready_timeout: Duration::from_secs(60),
            time_scale: kit::retry::TimeScale::REAL,
            workspace,
        }
    }

    /// The developer contract: emulator on 4566, HTTP API on 3000, Invoke API
    /// on 3001, Zendesk fake on 4571, Notify fake on 4572, Connect fake on 4573,
    /// IoT Core's MQTT over WebSocket on 4580.
    pub fn on_contract_ports(mut self) -> Self {
        self.emulator = EmulatorMode::Spawn { port: Some(CONTRACT_EMULATOR_PORT) };
        self.http_addr = SocketAddr::from((Ipv4Addr::LOCALHOST, CONTRACT_HTTP_PORT));
        self.invoke_addr = SocketAddr::from((Ipv4Addr::LOCALHOST, CONTRACT_INVOKE_PORT));
        self.zendesk_addr = SocketAddr::from((Ipv4Addr::LOCALHOST, CONTRACT_ZENDESK_PORT));
        self.notify_addr = SocketAddr::from((Ipv4Addr::LOCALHOST, CONTRACT_NOTIFY_PORT));
        self.connect_addr = SocketAddr::from((Ipv4Addr::LOCALHOST, CONTRACT_CONNECT_PORT));
        self.iot_addr = SocketAddr::from((Ipv4Addr::LOCALHOST, CONTRACT_IOT_PORT));
        self
    }

    pub fn with_stack_name(mut self, name: impl Into<String>) -> Self {
        self.stack_name = name.into();
        self
    }

    pub fn with_region(mut self, region: impl Into<String>) -> Self {
        self.region = region.into();
        self
    }

    pub fn with_template(mut self, path: impl Into<PathBuf>) -> Self {
        self.template = path.into();
        self
    }

    pub fn with_bin_dir(mut self, path: impl Into<PathBuf>) -> Self {
        self.bin_dir = path.into();
        self
    }

    pub fn with_existing_emulator(mut self, endpoint: impl Into<String>) -> Self {
        self.emulator = EmulatorMode::Existing { endpoint: endpoint.into() };
        self
    }

    pub fn with_emulator_port(mut self, port: u16) -> Self {
        self.emulator = EmulatorMode::Spawn { port: Some(port) };
        self
    }

    pub fn with_http_addr(mut self, addr: SocketAddr) -> Self {
        self.http_addr = addr;
        self
    }

    pub fn with_invoke_addr(mut self, addr: SocketAddr) -> Self {
        self.invoke_addr = addr;
        self
    }

    pub fn with_jwt_secret(mut self, secret: impl Into<String>) -> Self {
        self.jwt_secret = secret.into();
        self
    }

    pub fn with_env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra_env.insert(key.into(), value.into());
        self
    }

    pub fn with_parameter(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.parameter_overrides.insert(key.into(), value.into());
        self
    }

    /// The one retry setting tests may change: every retry duration runs `factor`
    /// times faster, so the shipped 24-hour budget runs in minutes with the same
    /// receives and the same schedule shape. The fault proxy divides the SQS
    /// visibility timeouts functions ask for (they ask for the real durations, as
    /// in AWS), and every function gets `RETRY_TIME_SCALE` for the retry durations
    /// it computes itself (the approval outbox's re-publish delay). Timeouts,
    /// receive counts, schedules and everything else run as shipped.
    pub fn with_time_scale(mut self, scale: kit::retry::TimeScale) -> Self {
        self.time_scale = scale;
        self
    }

    /// Emulator and provisioning only: no processes, pollers, schedules.
    pub fn without_functions(mut self) -> Self {
        self.run_functions = false;
        self
    }

    pub fn without_pollers(mut self) -> Self {
        self.run_pollers = false;
        self
    }

    pub fn without_schedules(mut self) -> Self {
        self.run_schedules = false;
        self
    }

    pub fn without_fault_proxy(mut self) -> Self {
        self.fault_proxy = false;
        self
    }

    pub fn with_zendesk_addr(mut self, addr: SocketAddr) -> Self {
        self.zendesk_addr = addr;
        self
    }

    pub fn with_notify_addr(mut self, addr: SocketAddr) -> Self {
        self.notify_addr = addr;
        self
    }

    pub fn with_connect_addr(mut self, addr: SocketAddr) -> Self {
        self.connect_addr = addr;
        self
    }

    pub fn with_iot_addr(mut self, addr: SocketAddr) -> Self {
        self.iot_addr = addr;
        self
    }

    /// No Zendesk, Notify or Connect fake, and the template's parameters keep their
    /// defaults (or your overrides).
    pub fn without_fakes(mut self) -> Self {
        self.fakes = false;
        self
    }

    /// A Secrets Manager secret to create before functions start (replaces
    /// one the fakes would create under the same name).
    pub fn with_secret(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.secrets.insert(name.into(), value.into());
        self
    }

    pub fn quiet(mut self) -> Self {
        self.echo_function_logs = false;
        self
    }
}

/// The workspace root: the nearest ancestor with a `[workspace]` Cargo.toml,
/// searched from `CARGO_MANIFEST_DIR` (set under `cargo test`/`cargo run`),
/// then the current directory, then this crate's own location.
pub fn find_workspace_root() -> PathBuf {
    let candidates = [
        std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from),
        std::env::current_dir().ok(),
        Some(PathBuf::from(env!("CARGO_MANIFEST_DIR"))),
    ];
    candidates.into_iter().flatten().find_map(|start| workspace_above(&start)).unwrap_or_else(|| PathBuf::from("."))
}

fn workspace_above(start: &Path) -> Option<PathBuf> {
    start.ancestors().find_map(|dir| {
        let manifest = dir.join("Cargo.toml");
        let text = std::fs::read_to_string(&manifest).ok()?;
        text.lines().any(|l| l.trim() == "[workspace]").then(|| dir.to_path_buf())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workspace_root_is_found_from_this_crate() {
        let root = workspace_above(Path::new(env!("CARGO_MANIFEST_DIR"))).expect("root");
        assert!(root.join("infra").join("template.yaml").is_file());
    }
}
