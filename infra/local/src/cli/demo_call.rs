//! `{"call": {...}}`: one HTTP API request as a user whose token carries role
//! claims (routes that authorise by role need them), or
//! signed with SigV4 as one of the stack's named principals (`AWS_IAM` routes),
//! then its status and JSON — whole, as chosen values, or as rows of an array.
//!
//! ```json
//! {"call": {"method": "POST", "path": "/things", "as_user": "u1", "roles": ["writer"],
//!           "body": {...}, "expect": 201, "show": ["/thing/state"]}}
//! {"call": {"path": "/history?id=w", "as_user": "a1", "roles": ["reader"],
//!           "rows": "/items", "columns": ["seq", "action", "at"]}}
//! {"call": {"method": "POST", "path": "/signed-route", "as_principal": "a-service", "body": {...}}}
//! ```

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{bail, Context as _};
use local_stack::{mint_token, TokenRequest};
use serde::Deserialize;
use serde_json::Value;

use super::state::StackState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Call {
    /// `GET` (default) or `POST`.
    #[serde(default = "get")]
    method: String,
    path: String,
    /// The subject of a local token (JWT routes).
    as_user: Option<String>,
    /// A named principal of the stack to sign as (`AWS_IAM` routes).
    as_principal: Option<String>,
    /// Put in the token's `roles` claim as `[a b]`, the string API Gateway hands the
    /// function for an array claim.
    #[serde(default)]
    roles: Vec<String>,
    body: Option<Value>,
    title: Option<String>,
    /// Stop the demo unless the answer has this status.
    expect: Option<u16>,
    /// Print only the values at these JSON pointers.
    #[serde(default)]
    show: Vec<String>,
    /// Print the array at this pointer one element a line, with `columns`.
    rows: Option<String>,
    #[serde(default)]
    columns: Vec<String>,
}

fn get() -> String {
    "GET".to_owned()
}

pub async fn call(http: &reqwest::Client, stack: &StackState, secret: &str, step: &Call) -> anyhow::Result<()> {
    let url = format!("{}{}", stack.http, step.path);
    let method = match step.method.to_ascii_uppercase().as_str() {
        "GET" => reqwest::Method::GET,
        "POST" => reqwest::Method::POST,
        other => bail!("call: method {other} is not supported (GET or POST)"),
    };
    let what = format!("{method} {}", step.path);
    let (response, caller) = match (&step.as_user, &step.as_principal) {
        (None, Some(principal)) => {
            let signer = stack.signer(http, principal)?;
            let response = signer.send(method, &url, step.body.as_ref()).await.with_context(|| what.clone())?;
            (response, format!("{principal} (SigV4)"))
        }
        (Some(user), None) => {
            let mut claims = BTreeMap::new();
            if !step.roles.is_empty() {
                // As API Gateway renders an array claim (a plain `a b` would be the one name `a b`).
                claims.insert("roles".to_owned(), format!("[{}]", step.roles.join(" ")));
            }
            let token = mint_token(
                secret,
                &TokenRequest {
                    subject: user.clone(),
                    issuer: stack.jwt.issuer.clone(),
                    audience: stack.jwt.audience.clone(),
                    ttl: Duration::from_secs(600),
                    claims,
                },
            )?;
            let mut request = http.request(method, url);
            if let Some(body) = &step.body {
                request = request.json(body);
            }
            let response = request.bearer_auth(token).send().await.with_context(|| what.clone())?;
            let roles = if step.roles.is_empty() { String::new() } else { format!(" [{}]", step.roles.join(" ")) };
            (response, format!("{user}{roles}"))
        }
        _ => bail!("call {what}: give as_user (a local token's subject) or as_principal (a principal to sign as)"),
    };
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    println!();
    println!("== {}", step.title.as_deref().unwrap_or(&what));
    println!("{what} as {caller} -> {status}");
    print_body(&body, step)?;
    match step.expect {
        Some(expected) if expected != status => bail!("{what}: expected {expected}, got {status}: {body}"),
        _ => Ok(()),
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".to_owned(),
        other => other.to_string(),
    }
}

fn print_body(body: &Value, step: &Call) -> anyhow::Result<()> {
    for pointer in &step.show {
        println!("  {pointer:<20} {}", text(body.pointer(pointer).unwrap_or(&Value::Null)));
    }
    if let Some(rows) = &step.rows {
        let items = body.pointer(rows).and_then(Value::as_array).cloned().unwrap_or_default();
        if items.is_empty() {
            println!("  (none)");
        }
        for item in items {
            let cells: Vec<String> = step.columns.iter().map(|c| text(item.get(c).unwrap_or(&Value::Null))).collect();
            println!("  {}", cells.join("  "));
        }
    }
    if step.show.is_empty() && step.rows.is_none() {
        println!("{}", serde_json::to_string_pretty(body)?);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_call_step_of_the_demo_parses() {
        let demo: Value = serde_json::from_str(include_str!("../../../../events/demo.json")).unwrap();
        let calls: Vec<&Value> = demo["steps"].as_array().unwrap().iter().filter_map(|s| s.get("call")).collect();
        assert!(!calls.is_empty());
        for c in calls {
            let call: Call = serde_json::from_value(c.clone()).unwrap_or_else(|e| panic!("{c}: {e}"));
            assert!(["GET", "POST"].contains(&call.method.to_ascii_uppercase().as_str()));
            assert!(call.as_user.is_some() != call.as_principal.is_some(), "{c}: as_user or as_principal");
        }
    }

    #[test]
    fn rows_print_the_chosen_columns() {
        let step: Call = serde_json::from_value(serde_json::json!({
            "path": "/x", "as_user": "u", "rows": "/items", "columns": ["a", "b"]
        }))
        .unwrap();
        let body = serde_json::json!({"items": [{"a": 1, "b": "two"}, {"a": null}]});
        assert!(print_body(&body, &step).is_ok());
        assert_eq!(text(&serde_json::json!("s")), "s");
        assert_eq!(text(&Value::Null), "-");
    }
}
