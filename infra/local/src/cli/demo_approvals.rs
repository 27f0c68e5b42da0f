//! Demo steps for emailed links and on-prem processes (seed 002's approval flow),
//! through public doors only: the emulator's own record of sent mail, the HTTP API
//! as a browser would use it, and a long-running process started like any daemon.
//!
//! ```json
//! {"emails": {"contains": "INC-1042", "expect": 3, "title": "..."}}
//! {"email_link": {"to": "a@example.org", "contains": "/approvals/demo-1", "action": "approve", "submit": true}}
//! {"start_process": {"name": "action-processor", "program": "{target}/debug/action-processor",
//!                    "env": {"DECISIONS_QUEUE_URL": "{queue:ApprovalDecisionsQueue}",
//!                            "AWS_ACCESS_KEY_ID": "{access_key:approval-processor}",
//!                            "AWS_SECRET_ACCESS_KEY": "{secret_key:approval-processor}"}}}
//! {"stop_process": {"name": "action-processor"}}
//! ```

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use local_stack::{mint_token, TokenRequest};
use serde::Deserialize;
use serde_json::Value;
use tokio::io::AsyncBufReadExt;

use super::state::StackState;

/// `{"emails": {...}}`: the emails SES (in the emulator) accepted, as the emulator
/// keeps them (`GET /moto-api/data.json`, `ses.Message`): recipient, subject, links.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Emails {
    /// Only emails whose subject or body contains this.
    contains: Option<String>,
    /// Wait until at least this many match.
    #[serde(default)]
    expect: usize,
    title: Option<String>,
    #[serde(default = "thirty")]
    timeout_secs: u64,
}

/// `{"email_link": {...}}`: opens the `action` link of the newest email to `to`
/// that contains `contains`, as the approver's browser would (a confirmation page);
/// with `submit`, also posts the page's form (the link's query as form fields).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailLink {
    to: String,
    contains: String,
    action: String,
    #[serde(default)]
    submit: bool,
    title: Option<String>,
    /// Stop the demo unless the last answer has this status.
    expect: Option<u16>,
    #[serde(default = "thirty")]
    timeout_secs: u64,
}

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

#[derive(Debug, Clone)]
struct SentEmail {
    to: Vec<String>,
    subject: String,
    body: String,
}

async fn sent_emails(http: &reqwest::Client, stack: &StackState) -> anyhow::Result<Vec<SentEmail>> {
    let url = format!("{}/moto-api/data.json", stack.emulator);
    let data: Value = http.get(&url).send().await.with_context(|| format!("GET {url}"))?.json().await?;
    let strings = |v: &Value| -> Vec<String> {
        v.as_array().into_iter().flatten().filter_map(|s| s.as_str().map(str::to_owned)).collect()
    };
    Ok(data["ses"]["Message"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| SentEmail {
            to: strings(&m["destinations"]["ToAddresses"]),
            subject: m["subject"].as_str().unwrap_or_default().to_owned(),
            body: m["body"].as_str().unwrap_or_default().to_owned(),
        })
        .collect())
}

/// The `href`s of an HTML body (entities in them undone), or the URLs of a text one.
fn links(body: &str) -> Vec<String> {
    let mut out = Vec::new();
    for part in body.split("href=\"").skip(1) {
        if let Some(end) = part.find('"') {
            out.push(part[..end].replace("&amp;", "&"));
        }
    }
    if out.is_empty() {
        out = body.split_whitespace().filter(|w| w.starts_with("http")).map(str::to_owned).collect();
    }
    out
}

fn matches(email: &SentEmail, needle: Option<&str>) -> bool {
    needle.is_none_or(|n| email.subject.contains(n) || email.body.contains(n))
}

async fn wait_for_emails(
    http: &reqwest::Client,
    stack: &StackState,
    expect: usize,
    timeout: Duration,
    keep: impl Fn(&SentEmail) -> bool,
) -> anyhow::Result<Vec<SentEmail>> {
    let deadline = Instant::now() + timeout;
    loop {
        let found: Vec<SentEmail> = sent_emails(http, stack).await?.into_iter().filter(|e| keep(e)).collect();
        if found.len() >= expect.max(1) || (expect == 0 && Instant::now() >= deadline) {
            return Ok(found);
        }
        if Instant::now() >= deadline {
            bail!("{} matching email(s) after {timeout:?}, expected {expect}", found.len());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

pub async fn emails(http: &reqwest::Client, stack: &StackState, step: &Emails) -> anyhow::Result<()> {
    let timeout = Duration::from_secs(step.timeout_secs);
    let found = wait_for_emails(http, stack, step.expect, timeout, |e| matches(e, step.contains.as_deref())).await?;
    println!();
    println!("== {}", step.title.as_deref().unwrap_or("Emails sent through SES (kept by the emulator)"));
    for e in &found {
        println!("to {:<32} {}", e.to.join(", "), e.subject);
        for link in links(&e.body) {
            println!("    {link}");
        }
    }
    Ok(())
}

/// An approver's browser: the confirmation page, then (if asked) its form.
pub async fn email_link(http: &reqwest::Client, stack: &StackState, step: &EmailLink) -> anyhow::Result<()> {
    let timeout = Duration::from_secs(step.timeout_secs);
    let found = wait_for_emails(http, stack, 1, timeout, |e| {
        e.to.iter().any(|t| t == &step.to) && matches(e, Some(&step.contains))
    })
    .await?;
    let wanted = format!("action={}", step.action);
    let link = found
        .iter()
        .rev()
        .flat_map(|e| links(&e.body))
        .find(|l| l.contains(&wanted))
        .with_context(|| format!("no {wanted} link in the emails to {}", step.to))?;
    // The link names the deployed API; locally the same path is served on the HTTP API.
    let path_and_query = link.find("/approvals/").map(|i| &link[i..]).context("not an approval link")?;
    let (path, query) = path_and_query.split_once('?').unwrap_or((path_and_query, ""));
    println!();
    println!("== {}", step.title.as_deref().unwrap_or("Following an emailed link"));
    let page = http.get(format!("{}{path_and_query}", stack.http)).send().await.context("GET the link")?;
    let mut status = page.status().as_u16();
    println!("GET  {path}?… -> {status}  {}", heading(&page.text().await.unwrap_or_default()));
    if step.submit {
        let answer = http
            .post(format!("{}{path}", stack.http))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(query.to_owned())
            .send()
            .await
            .context("POST the form")?;
        status = answer.status().as_u16();
        println!("POST {path} -> {status}  {}", heading(&answer.text().await.unwrap_or_default()));
    }
    match step.expect {
        Some(expected) if expected != status => bail!("{path}: expected {expected}, got {status}"),
        _ => Ok(()),
    }
}

/// A page's `<h1>`, to show what it said without printing the page (it holds the token).
fn heading(html: &str) -> String {
    html.split("<h1>").nth(1).and_then(|h| h.split("</h1>").next()).unwrap_or("").to_owned()
}

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
    use super::*;

    #[test]
    fn links_come_from_hrefs_with_entities_undone() {
        let html =
            r#"<a href="https://x/approvals/r1?token=T&amp;action=approve">Approve</a> <a href="https://x/b">b</a>"#;
        assert_eq!(links(html), ["https://x/approvals/r1?token=T&action=approve", "https://x/b"]);
        assert_eq!(links("see https://x/a and more"), ["https://x/a"]);
        assert_eq!(heading("<html><h1>Thank you: approved</h1>"), "Thank you: approved");
    }

    fn stack_state() -> StackState {
        let keys = super::super::state::PrincipalKeys {
            role_arn: "arn:aws:iam::123456789012:role/approval-processor".into(),
            access_key_id: "AKIAPROCESSOR".into(),
            secret_access_key: "processor-secret".into(),
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
            principals: [("approval-processor".to_owned(), keys)].into(),
        }
    }

    #[test]
    fn a_principals_keys_and_the_proxy_are_placeholders() {
        let stack = stack_state();
        let workspace = Path::new("/w");
        let expanded =
            expand("{proxy} {access_key:approval-processor} {secret_key:approval-processor}", &stack, workspace, "s");
        assert_eq!(expanded.unwrap(), "http://127.0.0.1:4567 AKIAPROCESSOR processor-secret");
        let err = expand("{access_key:nobody}", &stack, workspace, "s").unwrap_err().to_string();
        assert!(err.contains("no principal nobody") && err.contains("approval-processor"), "{err}");
        assert!(!format!("{:?}", stack.principals).contains("processor-secret"), "never printed");
    }

    #[test]
    fn the_demo_runs_the_processor_as_its_principal_with_sigv4() {
        let demo: Value = serde_json::from_str(include_str!("../../../../events/demo.json")).unwrap();
        let start = demo["steps"].as_array().unwrap().iter().find_map(|s| s.get("start_process")).unwrap();
        let step: StartProcess = serde_json::from_value(start.clone()).unwrap();
        assert_eq!(step.env["APPROVAL_API_AUTH"], "sigv4");
        assert_eq!(step.env["AWS_ACCESS_KEY_ID"], "{access_key:approval-processor}");
        assert_eq!(step.env["AWS_SECRET_ACCESS_KEY"], "{secret_key:approval-processor}");
        assert!(!step.env.contains_key("APPROVAL_API_TOKEN"));
    }

    #[test]
    fn every_approval_step_of_the_demo_parses() {
        let demo: Value = serde_json::from_str(include_str!("../../../../events/demo.json")).unwrap();
        let steps = demo["steps"].as_array().unwrap();
        let mut seen = 0;
        for s in steps {
            if let Some(v) = s.get("emails") {
                serde_json::from_value::<Emails>(v.clone()).unwrap();
                seen += 1;
            }
            if let Some(v) = s.get("email_link") {
                serde_json::from_value::<EmailLink>(v.clone()).unwrap();
                seen += 1;
            }
            if let Some(v) = s.get("start_process") {
                serde_json::from_value::<StartProcess>(v.clone()).unwrap();
                seen += 1;
            }
            if let Some(v) = s.get("stop_process") {
                serde_json::from_value::<StopProcess>(v.clone()).unwrap();
                seen += 1;
            }
        }
        assert!(seen >= 4, "the demo runs an approval through the processor");
    }
}
