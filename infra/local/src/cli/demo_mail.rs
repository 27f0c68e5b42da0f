//! Demo steps for sent mail, through public doors only: the emulator's own record of
//! the emails SES accepted, and the HTTP API as a recipient's browser would use it.
//!
//! ```json
//! {"emails": {"contains": "INC-1042", "expect": 3, "title": "..."}}
//! {"email_link": {"to": "a@example.org", "contains": "/r/demo-1", "action": "yes", "submit": true}}
//! ```

use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use serde::Deserialize;
use serde_json::Value;

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

/// `{"email_link": {...}}`: opens the link with `action=<action>` in its query, of the
/// newest email to `to` that contains `contains`, as the recipient's browser would
/// (a confirmation page); with `submit`, also posts the page's form (the link's query
/// as form fields). The link names the deployed host; its path and query are asked
/// of the local HTTP API.
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

/// A recipient's browser: the confirmation page, then (if asked) its form.
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
    let path_and_query = path_and_query(&link).with_context(|| format!("not an http(s) link: {link}"))?;
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

/// A link's path and query, without its scheme and host.
fn path_and_query(link: &str) -> Option<&str> {
    let after_scheme = link.strip_prefix("https://").or_else(|| link.strip_prefix("http://"))?;
    after_scheme.find('/').map(|i| &after_scheme[i..])
}

/// A page's `<h1>`, to show what it said without printing the page (it holds the token).
fn heading(html: &str) -> String {
    html.split("<h1>").nth(1).and_then(|h| h.split("</h1>").next()).unwrap_or("").to_owned()
}

fn thirty() -> u64 {
    30
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_come_from_hrefs_with_entities_undone() {
        let html = r#"<a href="https://x/r/r1?token=T&amp;action=yes">Yes</a> <a href="https://x/b">b</a>"#;
        assert_eq!(links(html), ["https://x/r/r1?token=T&action=yes", "https://x/b"]);
        assert_eq!(links("see https://x/a and more"), ["https://x/a"]);
        assert_eq!(heading("<html><h1>Thank you: done</h1>"), "Thank you: done");
    }

    #[test]
    fn a_link_is_asked_of_the_local_api_by_its_path_and_query() {
        assert_eq!(path_and_query("https://api.example.org/r/1?token=T&action=yes"), Some("/r/1?token=T&action=yes"));
        assert_eq!(path_and_query("http://127.0.0.1:3000/a"), Some("/a"));
        assert_eq!(path_and_query("mailto:someone@example.org"), None);
    }

    #[test]
    fn every_mail_step_of_the_demo_parses() {
        let demo: Value = serde_json::from_str(include_str!("../../../../events/demo.json")).unwrap();
        let mut seen = 0;
        for s in demo["steps"].as_array().unwrap() {
            if let Some(v) = s.get("emails") {
                serde_json::from_value::<Emails>(v.clone()).unwrap_or_else(|e| panic!("{v}: {e}"));
                seen += 1;
            }
            if let Some(v) = s.get("email_link") {
                serde_json::from_value::<EmailLink>(v.clone()).unwrap_or_else(|e| panic!("{v}: {e}"));
                seen += 1;
            }
        }
        assert!(seen >= 2, "the demo reads its mail");
    }
}
