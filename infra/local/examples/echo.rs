//! A tiny Lambda function for the local stack's own tests: it exercises the
//! Runtime API the way real functions do (through `lambda_runtime`), and
//! misbehaves on request (errors, timeouts, crashes, failed init).

use std::time::Duration;

use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::{json, Value};

#[tokio::main]
async fn main() -> Result<(), Error> {
    if std::env::var_os("ECHO_FAIL_INIT").is_some() {
        return Err("init failed on purpose".into());
    }
    println!("echo init");
    lambda_runtime::run(service_fn(handle)).await
}

async fn handle(event: LambdaEvent<Value>) -> Result<Value, Error> {
    let (payload, context) = event.into_parts();
    println!("echo handling {}", context.request_id);
    if let Some(ms) = payload.get("sleep_ms").and_then(Value::as_u64) {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    if payload.get("crash").is_some() {
        std::process::exit(3);
    }
    if let Some(message) = payload.get("fail").and_then(Value::as_str) {
        return Err(message.into());
    }
    // SQS: every record whose body mentions "fail" is reported as failed.
    if let Some(records) = payload.get("Records").and_then(Value::as_array) {
        let failures: Vec<Value> = records
            .iter()
            .filter(|r| r["body"].as_str().is_some_and(|b| b.contains("fail")))
            .map(|r| json!({ "itemIdentifier": r["messageId"] }))
            .collect();
        println!("echo batch of {} with {} failures", records.len(), failures.len());
        return Ok(json!({ "batchItemFailures": failures }));
    }
    if let Some(kind) = payload.get("detail-type").and_then(Value::as_str) {
        println!("echo scheduled: {kind}");
        return Ok(Value::Null);
    }
    // HTTP API v2.0.
    if payload.get("rawPath").is_some() {
        let body = json!({
            "path": payload["rawPath"],
            "routeKey": payload["routeKey"],
            "params": payload["pathParameters"],
            "sub": payload.pointer("/requestContext/authorizer/jwt/claims/sub"),
        });
        return Ok(json!({
            "statusCode": 200,
            "headers": { "content-type": "application/json" },
            "body": body.to_string(),
        }));
    }
    Ok(json!({
        "echo": payload.get("echo"),
        "function": std::env::var("AWS_LAMBDA_FUNCTION_NAME").ok(),
        "queue": std::env::var("ECHO_QUEUE_URL").ok(),
        "endpoint": std::env::var("AWS_ENDPOINT_URL").ok(),
        "third_parties": {
            "zendesk_url": std::env::var("ECHO_ZENDESK_URL").ok(),
            "zendesk_email": std::env::var("ECHO_ZENDESK_EMAIL").ok(),
            "notify_url": std::env::var("ECHO_NOTIFY_URL").ok(),
            "notify_template_id": std::env::var("ECHO_NOTIFY_TEMPLATE_ID").ok(),
        },
    }))
}
