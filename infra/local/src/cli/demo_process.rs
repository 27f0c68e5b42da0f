//! Demo steps that run a long-running program beside the stack (a daemon of the
//! deployment's own, such as an on-prem service), started like any daemon with its
//! configuration from placeholders, and stopped with SIGTERM.
//!
//! ```json
//! {"start_process": {"name": "daemon", "program": "{target}/debug/daemon",
//!                    "env": {"QUEUE_URL": "{queue:SomeQueue}",
//!                            "AWS_ACCESS_KEY_ID": "{access_key:daemon}",
//!                            "AWS_SECRET_ACCESS_KEY": "{secret_key:daemon}"}}}
//! {"stop_process": {"name": "daemon"}}
//! ```

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context as _;
use local_stack::{mint_token, TokenRequest};
use serde::Deserialize;
use tokio::io::AsyncBufReadExt;

use super::state::StackState;

/// `{"start_process": {...}}`: starts a long-running program (an on-prem daemon) in
/// the workspace, its output echoed as `[name] line`. Placeholders in `program`,
/// `args` and `env`: `{emulator}`, `{proxy}` (the AWS proxy, which checks IAM),
/// `{http}`, `{region}`, `{target}` (the cargo target directory), `{queue:LogicalId}`
/// (its URL), `{token:user}` (a local API token), `{access_key:principal}` and
/// `{secret_key:principal}` (a named principal's local credentials).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartProcess {
    name: String,
    program: String,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    title: Option<String>,
}

/// `{"stop_process": {"name": ...}}`: SIGTERM, then waits for it to exit.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StopProcess {
    name: String,
    #[serde(default = "thirty")]
    timeout_secs: u64,
}

fn thirty() -> u64 {
    30
}

/// Processes the demo started; killed when dropped (a failed demo leaves none behind).
#[derive(Default)]
pub struct Processes(BTreeMap<String, tokio::process::Child>);

fn target_dir(workspace: &Path) -> String {
    std::env::var("CARGO_TARGET_DIR")
        .ok()
        .filter(|t| !t.is_empty())
        .map(|t| if Path::new(&t).is_absolute() { t } else { workspace.join(t).display().to_string() })
        .unwrap_or_else(|| workspace.join("target").display().to_string())
}

fn expand(text: &str, stack: &StackState, workspace: &Path, secret: &str) -> anyhow::Result<String> {
    let mut out = text
        .replace("{emulator}", &stack.emulator)
        .replace("{proxy}", &stack.proxy)
        .replace("{http}", &stack.http)
        .replace("{region}", &stack.region)
        .replace("{target}", &target_dir(workspace));
    const KINDS: [&str; 4] = ["{queue:", "{token:", "{access_key:", "{secret_key:"];
    while let Some(start) = KINDS.iter().filter_map(|k| out.find(k)).min() {
        let end = start + out[start..].find('}').context("unclosed placeholder")?;
        let (kind, name) = out[start + 1..end].split_once(':').context("placeholder")?;
        let value = match kind {
            "queue" => stack.resources.queue_url(name)?.to_owned(),
            "access_key" => stack.principal(name)?.access_key_id.clone(),
            "secret_key" => stack.principal(name)?.secret_access_key.clone(),
            _ => mint_token(
                secret,
                &TokenRequest {
                    subject: name.to_owned(),
                    issuer: stack.jwt.issuer.clone(),
                    audience: stack.jwt.audience.clone(),
                    ttl: Duration::from_secs(24 * 3600),
                    claims: BTreeMap::new(),
                },
            )?,
        };
        out.replace_range(start..=end, &value);
    }
    Ok(out)
}

pub fn start_process(
    processes: &mut Processes,
    stack: &StackState,
    workspace: &Path,
    secret: &str,
    step: &StartProcess,
) -> anyhow::Result<()> {
    let program = expand(&step.program, stack, workspace, secret)?;
    let mut command = tokio::process::Command::new(&program);
    command.current_dir(workspace).kill_on_drop(true).stdout(Stdio::piped()).stderr(Stdio::piped());
    for a in &step.args {
        command.arg(expand(a, stack, workspace, secret)?);
    }
    for (k, v) in &step.env {
        command.env(k, expand(v, stack, workspace, secret)?);
    }
    let mut child = command.spawn().with_context(|| format!("starting {program} (is it built?)"))?;
    for stream in [
        child.stdout.take().map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Unpin + Send>),
        child.stderr.take().map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Unpin + Send>),
    ]
    .into_iter()
    .flatten()
    {
        let name = step.name.clone();
        tokio::spawn(async move {
            let mut lines = tokio::io::BufReader::new(stream).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                println!("[{name}] {line}");
            }
        });
    }
    println!();
    println!("== {}", step.title.as_deref().unwrap_or("Starting a process"));
    println!("started {} (pid {})", step.name, child.id().unwrap_or_default());
    processes.0.insert(step.name.clone(), child);
    Ok(())
}

pub async fn stop_process(processes: &mut Processes, step: &StopProcess) -> anyhow::Result<()> {
    let mut child = processes.0.remove(&step.name).with_context(|| format!("no process named {}", step.name))?;
    if let Some(pid) = child.id().and_then(|p| libc::pid_t::try_from(p).ok()) {
        // SAFETY: signals a child this demo started and still owns (not yet reaped).
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
    }
    let status = tokio::time::timeout(Duration::from_secs(step.timeout_secs), child.wait())
        .await
        .with_context(|| format!("{} did not stop within {} s of SIGTERM", step.name, step.timeout_secs))??;
    println!("{} stopped on SIGTERM ({status})", step.name);
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    fn stack_state() -> StackState {
        let keys = super::super::state::PrincipalKeys {
            role_arn: "arn:aws:iam::123456789012:role/daemon".into(),
            access_key_id: "AKIADAEMON".into(),
            secret_access_key: "daemon-secret".into(),
        };
        StackState {
            pid: 1,
            emulator: "http://127.0.0.1:4566".into(),
            proxy: "http://127.0.0.1:4567".into(),
            http: "http://127.0.0.1:3000".into(),
            invoke: "http://127.0.0.1:3001".into(),
            zendesk: None,
            notify: None,
            connect: None,
            mqtt: None,
            iot_authorizer: None,
            region: "eu-west-2".into(),
            stack_name: "workflows".into(),
            jwt: Default::default(),
            resources: Default::default(),
            principals: [("daemon".to_owned(), keys)].into(),
        }
    }

    #[test]
    fn a_principals_keys_and_the_proxy_are_placeholders() {
        let stack = stack_state();
        let workspace = Path::new("/w");
        let expanded = expand("{proxy} {access_key:daemon} {secret_key:daemon}", &stack, workspace, "s");
        assert_eq!(expanded.unwrap(), "http://127.0.0.1:4567 AKIADAEMON daemon-secret");
        let err = expand("{access_key:nobody}", &stack, workspace, "s").unwrap_err().to_string();
        assert!(err.contains("no principal nobody") && err.contains("daemon"), "{err}");
        assert!(!format!("{:?}", stack.principals).contains("daemon-secret"), "never printed");
    }

    #[test]
    fn every_process_step_of_the_demo_parses_and_takes_credentials_from_placeholders() {
        let demo: Value = serde_json::from_str(include_str!("../../../../events/demo.json")).unwrap();
        let mut seen = 0;
        for s in demo["steps"].as_array().unwrap() {
            if let Some(v) = s.get("start_process") {
                let step: StartProcess = serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{v}: {e}"));
                for (name, value) in &step.env {
                    if name.contains("SECRET") || name.contains("KEY_ID") || name.contains("TOKEN") {
                        assert!(value.starts_with('{'), "{name}: a credential in a demo file is a placeholder");
                    }
                }
                seen += 1;
            }
            if let Some(v) = s.get("stop_process") {
                serde_json::from_value::<StopProcess>(v.clone()).unwrap_or_else(|e| panic!("{v}: {e}"));
                seen += 1;
            }
        }
        assert!(seen >= 2, "the demo runs a daemon and stops it");
    }
}
