//! `{"call": {...}}`: one HTTP API request as a user whose token carries role
//! claims (seed 004's workflow actions and audit reads need them, and POST), then
//! its status and JSON — whole, as chosen values, or as rows of an array.
//!
//! ```json
//! {"call": {"method": "POST", "path": "/workflows", "as_user": "u1", "roles": ["requester"],
//!           "body": {...}, "expect": 201, "show": ["/workflow/state"]}}
//! {"call": {"path": "/audit?workflow_id=w", "as_user": "a1", "roles": ["auditor"],
//!           "rows": "/items", "columns": ["seq", "action", "actor", "at"]}}
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
    as_user: String,
    /// Put in the token's `roles` claim as `[a b]`, the string API Gateway hands the
    /// function for an array claim (a plain `a b` would be the one name `a b`).
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

/// The token's extra claims: `roles` rendered as API Gateway renders an array claim.
fn role_claims(step: &Call) -> BTreeMap<String, String> {
    let mut claims = BTreeMap::new();
    if !step.roles.is_empty() {
        claims.insert("roles".to_owned(), format!("[{}]", step.roles.join(" ")));
    }
    claims
}

pub async fn call(http: &reqwest::Client, stack: &StackState, secret: &str, step: &Call) -> anyhow::Result<()> {
    let claims = role_claims(step);
    let token = mint_token(
        secret,
        &TokenRequest {
            subject: step.as_user.clone(),
            issuer: stack.jwt.issuer.clone(),
            audience: stack.jwt.audience.clone(),
            ttl: Duration::from_secs(600),
            claims,
        },
    )?;
    let url = format!("{}{}", stack.http, step.path);
    let mut request = match step.method.to_ascii_uppercase().as_str() {
        "GET" => http.get(url),
        "POST" => http.post(url),
        other => bail!("call: method {other} is not supported (GET or POST)"),
    };
    if let Some(body) = &step.body {
        request = request.json(body);
    }
    let what = format!("{} {}", step.method.to_ascii_uppercase(), step.path);
    let response = request.bearer_auth(token).send().await.with_context(|| what.clone())?;
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    println!();
    println!("== {}", step.title.as_deref().unwrap_or(&what));
    let roles = if step.roles.is_empty() { String::new() } else { format!(" [{}]", step.roles.join(" ")) };
    println!("{what} as {}{roles} -> {status}", step.as_user);
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
        }
    }

    #[test]
    fn every_role_of_a_step_reaches_the_function_as_its_own_name() {
        let step: Call = serde_json::from_value(
            serde_json::json!({"path": "/x", "as_user": "u", "roles": ["requester", "approver"]}),
        )
        .unwrap();
        let claims = role_claims(&step);
        assert_eq!(kit::claims::names(&claims["roles"]), ["requester", "approver"]);
        let none: Call = serde_json::from_value(serde_json::json!({"path": "/x", "as_user": "u"})).unwrap();
        assert!(role_claims(&none).is_empty());
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
