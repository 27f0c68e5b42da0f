//! `local-stack demo`: drives a running stack from a steps file, through its
//! public interfaces only (queues and the HTTP API) — no system code.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use aws_sdk_sqs::types::{MessageAttributeValue, SendMessageBatchRequestEntry};
use clap::Args;
use local_stack::{mint_token, sdk_config, TokenRequest, DEFAULT_JWT_SECRET};
use serde::Deserialize;
use serde_json::Value;

use super::demo_mail;
use super::demo_process;
use super::demo_realtime;
use super::demo_steps;
use super::state::{self, StackState};

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// The steps file, e.g. events/demo.json.
    #[arg(long)]
    pub file: PathBuf,
    #[arg(long, env = "LOCAL_JWT_SECRET", default_value = DEFAULT_JWT_SECRET, hide_env_values = true)]
    pub secret: String,
}

#[derive(Debug, Deserialize)]
struct DemoFile {
    steps: Vec<Step>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Step {
    /// Send every record body of an SQS event fixture to a queue.
    Send {
        queue: String,
        file: PathBuf,
    },
    /// Wait until the queues have no visible or in-flight messages.
    WaitDrained {
        queues: Vec<String>,
        #[serde(default = "default_timeout")]
        timeout_secs: u64,
    },
    /// GET a path of the HTTP API as a user; print status and JSON.
    Get {
        path: String,
        as_user: Option<String>,
        title: Option<String>,
        /// Extra claims of the user's token (e.g. `{"roles": "ops"}`).
        #[serde(default)]
        claims: BTreeMap<String, String>,
    },
    Print(String),
    /// GET a path as a user (or signed as a named principal, for `AWS_IAM`
    /// routes) until the JSON value at `pointer` equals `equals`.
    WaitFor {
        path: String,
        as_user: Option<String>,
        as_principal: Option<String>,
        pointer: String,
        equals: Value,
        #[serde(default = "default_timeout")]
        timeout_secs: u64,
    },
    /// GET a path as a user and print the timestamps under `pointer`, oldest first,
    /// with the time since `origin` (one of them; default the oldest).
    Timeline {
        path: String,
        as_user: String,
        pointer: String,
        origin: Option<String>,
        title: Option<String>,
    },
    /// Show the messages of a queue (a DLQ) with their string attributes, without
    /// consuming them. Bodies are not printed: they may hold personal data.
    Peek {
        queue: String,
        title: Option<String>,
        #[serde(default)]
        attributes: Vec<String>,
    },
    /// An HTTP API request as a user with role claims, GET or POST (see `demo_call`).
    Call(super::demo_call::Call),
    /// Invoke a function through the Invoke API (see `demo_steps`).
    Invoke(demo_steps::Invoke),
    /// POST to a fake's control endpoint.
    FakePost(demo_steps::FakePost),
    /// Put an object in a template bucket.
    PutObject(demo_steps::PutObject),
    /// Print the emails SES accepted, as the emulator keeps them (see `demo_mail`).
    Emails(demo_mail::Emails),
    /// Open (and optionally submit) a link from an email, as a browser would.
    EmailLink(demo_mail::EmailLink),
    /// Start a long-running program (a daemon); stopped by `stop_process`.
    StartProcess(demo_process::StartProcess),
    StopProcess(demo_process::StopProcess),
    /// Subscribe as a user to their notifications over MQTT; print them as they come.
    Subscribe(demo_realtime::Subscribe),
    Unsubscribe(demo_realtime::Unsubscribe),
}

fn default_timeout() -> u64 {
    30
}

pub async fn run(workspace: &Path, args: &DemoArgs) -> anyhow::Result<ExitCode> {
    let stack = state::read(workspace)?;
    let path = resolve(workspace, &args.file);
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let demo: DemoFile = serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    let sdk = sdk_config(&stack.emulator, &stack.region).await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let http = kit::http::client().context("building an HTTP client")?;
    let mut processes = demo_process::Processes::default();
    let mut subscriptions = demo_realtime::Subscriptions::default();
    for (i, step) in demo.steps.iter().enumerate() {
        let n = i + 1;
        match step {
            Step::Send { queue, file } => send(&sqs, &stack, workspace, queue, file).await?,
            Step::WaitDrained { queues, timeout_secs } => {
                wait_drained(&sqs, &stack, queues, Duration::from_secs(*timeout_secs)).await?;
            }
            Step::Get { path, as_user, title, claims } => {
                get(&http, &stack, &args.secret, path, as_user.as_deref(), title.as_deref(), claims).await?;
            }
            Step::Print(text) => println!("{text}"),
            Step::WaitFor { path, as_user, as_principal, pointer, equals, timeout_secs } => {
                let timeout = Duration::from_secs(*timeout_secs);
                let who = match (as_user, as_principal) {
                    (Some(user), None) => Who::User(user),
                    (None, Some(principal)) => Who::Principal(principal),
                    _ => bail!("wait_for {path}: give as_user or as_principal"),
                };
                wait_for(&http, &stack, &args.secret, path, who, pointer, equals, timeout).await?;
            }
            Step::Timeline { path, as_user, pointer, origin, title } => {
                let body = get_json(&http, &stack, &args.secret, path, Who::User(as_user)).await?.1;
                timeline(&body, pointer, origin.as_deref(), title.as_deref().unwrap_or(path))?;
            }
            Step::Peek { queue, title, attributes } => {
                peek(&sqs, &stack, queue, title.as_deref(), attributes).await?;
            }
            Step::Call(step) => super::demo_call::call(&http, &stack, &args.secret, step).await?,
            Step::Invoke(step) => demo_steps::invoke(&http, &stack, workspace, &args.secret, step).await?,
            Step::FakePost(step) => demo_steps::fake_post(&http, &stack, workspace, step).await?,
            Step::PutObject(step) => demo_steps::put_object(&http, &stack, step).await?,
            Step::Emails(step) => demo_mail::emails(&http, &stack, step).await?,
            Step::EmailLink(step) => demo_mail::email_link(&http, &stack, step).await?,
            Step::StartProcess(step) => {
                demo_process::start_process(&mut processes, &stack, workspace, &args.secret, step)?;
            }
            Step::StopProcess(step) => demo_process::stop_process(&mut processes, step).await?,
            Step::Subscribe(step) => demo_realtime::subscribe(&mut subscriptions, &stack, &args.secret, step).await?,
            Step::Unsubscribe(step) => demo_realtime::unsubscribe(&mut subscriptions, step).await?,
        }
        tracing::debug!(step = n, "demo step done");
    }
    Ok(ExitCode::SUCCESS)
}

/// Receives what is visible in a queue, prints the chosen attributes, and makes
/// the messages visible again at once.
async fn peek(
    sqs: &aws_sdk_sqs::Client,
    stack: &StackState,
    queue: &str,
    title: Option<&str>,
    attributes: &[String],
) -> anyhow::Result<()> {
    let url = queue_url(stack, queue)?;
    println!();
    println!("--- {}", title.unwrap_or(queue));
    let got = sqs
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(10)
        .message_attribute_names("All")
        .visibility_timeout(5)
        .send()
        .await
        .with_context(|| format!("receiving from {queue}"))?;
    if got.messages().is_empty() {
        println!("(empty)");
    }
    for (i, m) in got.messages().iter().enumerate() {
        println!("message {}:", i + 1);
        let attrs = m.message_attributes();
        for name in attributes {
            let value = attrs.and_then(|a| a.get(name)).and_then(|v| v.string_value()).unwrap_or("-");
            println!("  {name:<16} {value}");
        }
        if let Some(rh) = m.receipt_handle() {
            sqs.change_message_visibility()
                .queue_url(url)
                .receipt_handle(rh)
                .visibility_timeout(0)
                .send()
                .await
                .with_context(|| format!("releasing a message of {queue}"))?;
        }
    }
    Ok(())
}

pub(super) fn resolve(workspace: &Path, file: &Path) -> PathBuf {
    if file.is_absolute() || file.exists() {
        file.to_path_buf()
    } else {
        workspace.join(file)
    }
}

fn queue_url<'a>(stack: &'a StackState, logical_id: &str) -> anyhow::Result<&'a str> {
    Ok(stack.resources.queue_url(logical_id)?)
}

async fn send(
    sqs: &aws_sdk_sqs::Client,
    stack: &StackState,
    workspace: &Path,
    queue: &str,
    file: &Path,
) -> anyhow::Result<()> {
    let url = queue_url(stack, queue)?;
    let path = resolve(workspace, file);
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let fixture: Value = serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    let records = fixture
        .get("Records")
        .and_then(Value::as_array)
        .with_context(|| format!("{} is not an SQS event (no Records)", path.display()))?;
    let fifo = url.ends_with(".fifo");
    let mut entries = Vec::new();
    for (i, record) in records.iter().enumerate() {
        let body = record.get("body").and_then(Value::as_str).unwrap_or_default();
        let mut entry = SendMessageBatchRequestEntry::builder()
            .id(i.to_string())
            .message_body(body)
            .set_message_attributes(Some(string_attributes(record)?));
        if fifo {
            let attr = |k: &str| record.pointer(&format!("/attributes/{k}")).and_then(Value::as_str).map(str::to_owned);
            entry = entry
                .message_group_id(attr("MessageGroupId").unwrap_or_else(|| "demo".to_owned()))
                .message_deduplication_id(
                    attr("MessageDeduplicationId").unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
                );
        }
        entries.push(entry.build()?);
    }
    for chunk in entries.chunks(10) {
        let out = sqs
            .send_message_batch()
            .queue_url(url)
            .set_entries(Some(chunk.to_vec()))
            .send()
            .await
            .with_context(|| format!("sending to {queue}"))?;
        if !out.failed().is_empty() {
            bail!("{} messages to {queue} were rejected", out.failed().len());
        }
    }
    println!("Sent {} message(s) from {} to {queue}.", records.len(), file.display());
    Ok(())
}

/// The fixture's string (and number) message attributes.
fn string_attributes(record: &Value) -> anyhow::Result<std::collections::HashMap<String, MessageAttributeValue>> {
    let mut out = std::collections::HashMap::new();
    let Some(attributes) = record.get("messageAttributes").and_then(Value::as_object) else {
        return Ok(out);
    };
    for (name, attribute) in attributes {
        let Some(value) = attribute.get("stringValue").and_then(Value::as_str) else {
            continue;
        };
        let data_type = attribute.get("dataType").and_then(Value::as_str).unwrap_or("String");
        out.insert(name.clone(), MessageAttributeValue::builder().data_type(data_type).string_value(value).build()?);
    }
    Ok(out)
}

async fn wait_drained(
    sqs: &aws_sdk_sqs::Client,
    stack: &StackState,
    queues: &[String],
    timeout: Duration,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    let mut urls = BTreeMap::new();
    for q in queues {
        urls.insert(q.clone(), queue_url(stack, q)?.to_owned());
    }
    loop {
        let mut pending = 0u64;
        for url in urls.values() {
            pending += local_stack::queues::depth(sqs, url).await?;
        }
        if pending == 0 {
            println!("Drained: {}.", queues.join(", "));
            return Ok(());
        }
        if Instant::now() >= deadline {
            bail!("{} still has {pending} message(s) after {timeout:?}", queues.join(", "));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Who a demo GET is made as.
#[derive(Debug, Clone, Copy)]
enum Who<'a> {
    /// A local token's subject.
    User(&'a str),
    /// A named principal, signing with SigV4.
    Principal(&'a str),
}

#[allow(clippy::too_many_arguments)]
async fn wait_for(
    http: &reqwest::Client,
    stack: &StackState,
    secret: &str,
    path: &str,
    who: Who<'_>,
    pointer: &str,
    equals: &Value,
    timeout: Duration,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        let (_, body) = get_json(http, stack, secret, path, who).await?;
        let found = body.pointer(pointer).cloned().unwrap_or(Value::Null);
        if found == *equals {
            println!("{path}: {pointer} is {equals}.");
            return Ok(());
        }
        if Instant::now() >= deadline {
            bail!("{path}: {pointer} is {found}, not {equals}, after {timeout:?}");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Prints `name  time  (+ms)` for each RFC 3339 string under `pointer`, in time order.
fn timeline(body: &Value, pointer: &str, origin: Option<&str>, title: &str) -> anyhow::Result<()> {
    let fields = body.pointer(pointer).and_then(Value::as_object).with_context(|| format!("no object at {pointer}"))?;
    let mut points: Vec<(chrono::DateTime<chrono::Utc>, &str)> =
        fields.iter().filter_map(|(k, v)| Some((v.as_str()?.parse().ok()?, k.as_str()))).collect();
    points.sort();
    println!();
    println!("== {title}");
    let start = match origin {
        Some(o) => points.iter().find(|(_, name)| *name == o).map(|(at, _)| *at),
        None => points.first().map(|(at, _)| *at),
    };
    let Some(start) = start else {
        println!("(no timestamps)");
        return Ok(());
    };
    for (at, name) in points {
        let ms = (at - start).num_milliseconds();
        let offset = if ms < 0 { "before".to_owned() } else { format!("+{ms} ms") };
        println!("  {name:<20} {}  ({offset})", at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
    }
    Ok(())
}

async fn get_json(
    http: &reqwest::Client,
    stack: &StackState,
    secret: &str,
    path: &str,
    who: Who<'_>,
) -> anyhow::Result<(reqwest::StatusCode, Value)> {
    let response = match who {
        Who::User(user) => authorised_get(http, stack, secret, path, Some(user), &BTreeMap::new())?
            .send()
            .await
            .with_context(|| format!("GET {path}"))?,
        Who::Principal(principal) => stack
            .signer(http, principal)?
            .get(&format!("{}{path}", stack.http))
            .await
            .with_context(|| format!("GET {path}"))?,
    };
    let status = response.status();
    let body = response.json::<Value>().await.unwrap_or(Value::Null);
    Ok((status, body))
}

fn authorised_get(
    http: &reqwest::Client,
    stack: &StackState,
    secret: &str,
    path: &str,
    as_user: Option<&str>,
    claims: &BTreeMap<String, String>,
) -> anyhow::Result<reqwest::RequestBuilder> {
    let mut request = http.get(format!("{}{path}", stack.http));
    if let Some(user) = as_user {
        let token = mint_token(
            secret,
            &TokenRequest {
                subject: user.to_owned(),
                issuer: stack.jwt.issuer.clone(),
                audience: stack.jwt.audience.clone(),
                ttl: Duration::from_secs(600),
                claims: claims.clone(),
            },
        )?;
        request = request.bearer_auth(token);
    }
    Ok(request)
}

async fn get(
    http: &reqwest::Client,
    stack: &StackState,
    secret: &str,
    path: &str,
    as_user: Option<&str>,
    title: Option<&str>,
    claims: &BTreeMap<String, String>,
) -> anyhow::Result<()> {
    let request = authorised_get(http, stack, secret, path, as_user, claims)?;
    let response = request.send().await.with_context(|| format!("GET {path}"))?;
    let status = response.status();
    let text = response.text().await?;
    println!("== {}", title.unwrap_or(path));
    println!("GET {path} -> {status}");
    match serde_json::from_str::<Value>(&text) {
        Ok(json) => println!("{}", serde_json::to_string_pretty(&json)?),
        Err(_) => println!("{text}"),
    }
    Ok(())
}
