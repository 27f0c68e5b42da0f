//! Demo steps that drive a stack through the doors other than queues and the
//! HTTP API: the Lambda Invoke API (as a schedule or a log subscription would),
//! a fake's control endpoint (scripting Connect's calls), and the emulator's S3
//! (an object landing in a bucket).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use local_stack::{mint_token, TokenRequest};
use serde::Deserialize;
use serde_json::Value;

use super::state::StackState;

/// `{"invoke": {...}}`: invoke a function with a payload (a file or inline, default
/// `{}`); with `until`, again every `every_secs` until an API read shows a value.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Invoke {
    function: String,
    file: Option<PathBuf>,
    payload: Option<Value>,
    title: Option<String>,
    until: Option<Until>,
    #[serde(default = "three")]
    every_secs: u64,
    #[serde(default = "sixty")]
    timeout_secs: u64,
}

/// GET `path` as `as_user` (with extra `claims`) until the value at `pointer` is `equals`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Until {
    path: String,
    as_user: String,
    #[serde(default)]
    claims: BTreeMap<String, String>,
    pointer: String,
    equals: Value,
}

/// `{"fake_post": {...}}`: POST JSON (a file or inline) to a fake's path, e.g.
/// `/__contacts` on the Connect fake.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FakePost {
    /// `connect`, `zendesk` or `notify`.
    fake: String,
    path: String,
    file: Option<PathBuf>,
    body: Option<Value>,
    title: Option<String>,
}

/// `{"put_object": {...}}`: put an object in a template bucket. The key is a
/// strftime pattern in UTC now (`%Y/%m/%d`), for objects filed by date.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PutObject {
    bucket: String,
    key: String,
    #[serde(default)]
    body: String,
    title: Option<String>,
}

fn three() -> u64 {
    3
}
fn sixty() -> u64 {
    60
}

fn json_from(workspace: &Path, file: Option<&PathBuf>, inline: Option<&Value>) -> anyhow::Result<Value> {
    match (file, inline) {
        (Some(f), None) => {
            let path = super::demo::resolve(workspace, f);
            let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
            serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
        }
        (None, Some(v)) => Ok(v.clone()),
        (None, None) => Ok(Value::Object(Default::default())),
        (Some(_), Some(_)) => bail!("give a file or an inline value, not both"),
    }
}

pub async fn invoke(
    http: &reqwest::Client,
    stack: &StackState,
    workspace: &Path,
    secret: &str,
    step: &Invoke,
) -> anyhow::Result<()> {
    let payload = json_from(workspace, step.file.as_ref(), step.payload.as_ref())?;
    let url = format!("{}/2015-03-31/functions/{}/invocations", stack.invoke, step.function);
    if let Some(title) = &step.title {
        println!("{title}");
    }
    let deadline = Instant::now() + Duration::from_secs(step.timeout_secs);
    loop {
        let response =
            http.post(&url).json(&payload).send().await.with_context(|| format!("invoking {}", step.function))?;
        let failed = response.headers().contains_key("x-amz-function-error");
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if failed {
            bail!("{} failed: {body}", step.function);
        }
        let Some(until) = &step.until else {
            println!("Invoked {} -> {body}", step.function);
            return Ok(());
        };
        let token = mint_token(
            secret,
            &TokenRequest {
                subject: until.as_user.clone(),
                issuer: stack.jwt.issuer.clone(),
                audience: stack.jwt.audience.clone(),
                ttl: Duration::from_secs(600),
                claims: until.claims.clone(),
            },
        )?;
        let seen: Value = http
            .get(format!("{}{}", stack.http, until.path))
            .bearer_auth(token)
            .send()
            .await
            .with_context(|| format!("GET {}", until.path))?
            .json()
            .await
            .unwrap_or(Value::Null);
        let found = seen.pointer(&until.pointer).cloned().unwrap_or(Value::Null);
        if found == until.equals {
            println!("Invoked {} until {}: {} is {}.", step.function, until.path, until.pointer, until.equals);
            return Ok(());
        }
        if Instant::now() >= deadline {
            bail!("{}: {} is {found}, not {}, after {}s", until.path, until.pointer, until.equals, step.timeout_secs);
        }
        tokio::time::sleep(Duration::from_secs(step.every_secs.max(1))).await;
    }
}

pub async fn fake_post(
    http: &reqwest::Client,
    stack: &StackState,
    workspace: &Path,
    step: &FakePost,
) -> anyhow::Result<()> {
    let base = match step.fake.as_str() {
        "connect" => stack.connect.as_deref(),
        "zendesk" => stack.zendesk.as_deref(),
        "notify" => stack.notify.as_deref(),
        other => bail!("no fake called {other}"),
    }
    .with_context(|| format!("the {} fake is not running", step.fake))?;
    let body = json_from(workspace, step.file.as_ref(), step.body.as_ref())?;
    let response = http
        .post(format!("{base}{}", step.path))
        .json(&body)
        .send()
        .await
        .with_context(|| format!("POST {}", step.path))?;
    let status = response.status();
    if !status.is_success() {
        let answer = response.text().await.unwrap_or_default();
        bail!("{} fake refused POST {}: {status} {answer}", step.fake, step.path);
    }
    println!("{} -> {status}", step.title.as_deref().unwrap_or(&step.path));
    Ok(())
}

pub async fn put_object(http: &reqwest::Client, stack: &StackState, step: &PutObject) -> anyhow::Result<()> {
    let bucket = stack.resources.bucket_name(&step.bucket)?;
    let key = chrono::Utc::now().format(&step.key).to_string();
    // The emulator reads the service from the SigV4 scope and checks no signature.
    let date = chrono::Utc::now().format("%Y%m%d");
    let scope = format!(
        "AWS4-HMAC-SHA256 Credential=test/{date}/{}/s3/aws4_request, SignedHeaders=host, Signature=0",
        stack.region
    );
    let encoded: String = key
        .split('/')
        .map(|part| percent_encoding::utf8_percent_encode(part, percent_encoding::NON_ALPHANUMERIC).to_string())
        .collect::<Vec<_>>()
        .join("/");
    let response = http
        .put(format!("{}/{bucket}/{encoded}", stack.emulator))
        .header("authorization", scope)
        .body(step.body.clone())
        .send()
        .await
        .context("PutObject")?;
    if !response.status().is_success() {
        bail!("PutObject {key}: {}", response.status());
    }
    println!("{}", step.title.as_deref().unwrap_or("Put an object"));
    println!("  s3://{bucket}/{key}");
    Ok(())
}
