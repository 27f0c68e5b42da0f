//! The local Lambda service end to end with a real `lambda_runtime` function
//! (examples/echo.rs): invocations, errors, timeouts, crashes, the SQS event
//! source with partial batch failures, the HTTP API with JWTs, the Invoke
//! API, the fault proxy and its request counts, and the third-party fakes.

mod common;

use std::time::{Duration, Instant};

use local_stack::{Fault, InvokeOutcome, LocalStack};
use serde_json::{json, Value};

async fn start(test: &str) -> Option<LocalStack> {
    let options = common::options_or_skip(test)?
        .with_template(common::echo_template())
        .with_bin_dir(common::examples_dir())
        .with_stack_name("t");
    Some(LocalStack::start(options).await.expect("stack starts"))
}

/// Polls `check` until it holds or the deadline passes.
async fn eventually<F, Fut>(what: &str, timeout: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn invocations_errors_timeouts_and_crashes() {
    let Some(stack) = start("invocations_errors_timeouts_and_crashes").await else {
        return;
    };
    let init = stack.init_durations();
    eprintln!("init durations: {init:?}");
    assert_eq!(init["Echo"].len(), 1);

    // A plain invocation, by logical id, binary name and function name.
    for name in ["Echo", "echo", "t-echo"] {
        let out = stack.invoke(name, json!({"echo": 42})).await.expect("invoke");
        let InvokeOutcome::Ok(body) = out else { panic!("{out:?}") };
        assert_eq!(body["echo"], 42);
        assert_eq!(body["function"], "t-echo");
        assert_eq!(body["endpoint"], stack.proxy_endpoint());
        assert_eq!(body["queue"], stack.provisioned().queue_url("EchoQueue").expect("url"));
    }

    // A handler error.
    let out = stack.invoke("Echo", json!({"fail": "boom"})).await.expect("invoke");
    let InvokeOutcome::FunctionError(error) = out else { panic!("{out:?}") };
    assert_eq!(error["errorMessage"], "boom");

    // A timeout (Timeout: 2): the invocation fails and the process is replaced.
    let out = stack.invoke("Echo", json!({"sleep_ms": 5000})).await.expect("invoke");
    let InvokeOutcome::FunctionError(error) = out else { panic!("{out:?}") };
    assert_eq!(error["errorType"], "Sandbox.Timedout");
    let out = stack.invoke("Echo", json!({"echo": "after timeout"})).await.expect("invoke");
    assert!(out.is_ok(), "{out:?}");

    // A crash: the in-flight invocation fails, the next one gets a new process.
    let out = stack.invoke("Echo", json!({"crash": true})).await.expect("invoke");
    let InvokeOutcome::FunctionError(error) = out else { panic!("{out:?}") };
    assert_eq!(error["errorType"], "Runtime.ExitError");
    let out = stack.invoke("Echo", json!({"echo": "after crash"})).await.expect("invoke");
    assert!(out.is_ok(), "{out:?}");
    assert_eq!(stack.init_durations()["Echo"].len(), 3);

    assert!(stack.function_logs("Echo").iter().any(|l| l.contains("echo handling")));
    assert!(stack.invoke("Nope", json!({})).await.is_err());
    stack.shutdown().await;
}

#[tokio::test]
async fn sqs_source_deletes_successes_and_leaves_failures_to_redrive() {
    let Some(stack) = start("sqs_source_deletes_successes_and_leaves_failures_to_redrive").await else {
        return;
    };
    let sqs = aws_sdk_sqs::Client::new(stack.sdk_config());
    let queue = stack.provisioned().queue_url("EchoQueue").expect("queue").to_owned();
    let dlq = stack.provisioned().queue_url("EchoDlq").expect("dlq").to_owned();
    for body in ["ok-1", "please fail", "ok-2"] {
        sqs.send_message().queue_url(&queue).message_body(body).send().await.expect("send");
    }
    // The failing record is received twice (maxReceiveCount 2), then moved to the DLQ.
    let depth = |url: String| {
        let sqs = sqs.clone();
        async move { local_stack::queues::depth(&sqs, &url).await.expect("queue attributes") }
    };
    eventually("the failing record in the DLQ", Duration::from_secs(30), || {
        let dlq = dlq.clone();
        async move { depth(dlq).await == 1 }
    })
    .await;
    eventually("the source queue drained", Duration::from_secs(10), || {
        let queue = queue.clone();
        async move { depth(queue).await == 0 }
    })
    .await;
    let moved = sqs.receive_message().queue_url(&dlq).send().await.expect("receive");
    assert_eq!(moved.messages()[0].body(), Some("please fail"));

    // The event source's own calls are counted apart from the functions'.
    let counts = stack.aws_requests();
    let count = |key: &str| counts.get(key).copied().unwrap_or_default();
    assert!(count("ESM:SQS.ReceiveMessage.NonEmpty") >= 2, "{counts:?}");
    assert!(count("ESM:SQS.ReceiveMessage") >= count("ESM:SQS.ReceiveMessage.NonEmpty"), "{counts:?}");
    assert!(count("ESM:SQS.DeleteMessageBatch") >= 1, "{counts:?}");
    stack.shutdown().await;
}

#[tokio::test]
async fn http_api_invoke_api_and_fault_proxy() {
    let Some(stack) = start("http_api_invoke_api_and_fault_proxy").await else {
        return;
    };
    let http = kit::http::client().expect("http client");

    // JWT routes: no token → 401; a valid token → the function's response.
    let url = format!("{}/items/abc%20d?x=1", stack.http_url());
    let denied = http.get(&url).send().await.expect("request");
    assert_eq!(denied.status(), 401);
    assert_eq!(denied.json::<Value>().await.expect("json"), json!({"message": "Unauthorized"}));
    let token = stack.token_for("user-1").expect("token");
    let ok = http.get(&url).bearer_auth(&token).send().await.expect("request");
    assert_eq!(ok.status(), 200);
    let body: Value = ok.json().await.expect("json");
    assert_eq!(body["sub"], "user-1");
    assert_eq!(body["params"]["id"], "abc d");
    assert_eq!(body["routeKey"], "GET /items/{id}");
    let wrong = local_stack::mint_token(
        "another-secret",
        &local_stack::TokenRequest {
            subject: "user-1".into(),
            issuer: stack.jwt_settings().issuer.clone(),
            audience: stack.jwt_settings().audience.clone(),
            ttl: Duration::from_secs(60),
            claims: Default::default(),
        },
    )
    .expect("token");
    let denied = http.get(&url).bearer_auth(wrong).send().await.expect("request");
    assert_eq!(denied.status(), 401);

    // Open route, unknown route.
    let open = http.get(format!("{}/open", stack.http_url())).send().await.expect("request");
    assert_eq!(open.status(), 200);
    let missing = http.get(format!("{}/healthz", stack.http_url())).send().await.expect("request");
    assert_eq!(missing.status(), 404);
    assert_eq!(missing.json::<Value>().await.expect("json"), json!({"message": "Not Found"}));

    // Invoke API.
    let invoke = |name: &str| format!("{}/2015-03-31/functions/{name}/invocations", stack.invoke_url());
    let ok = http.post(invoke("t-echo")).json(&json!({"echo": 1})).send().await.expect("invoke");
    assert_eq!(ok.status(), 200);
    assert!(ok.headers().get("x-amz-function-error").is_none());
    assert_eq!(ok.json::<Value>().await.expect("json")["echo"], 1);
    let failed = http.post(invoke("Echo")).json(&json!({"fail": "no"})).send().await.expect("invoke");
    assert_eq!(failed.status(), 200);
    assert_eq!(failed.headers()["x-amz-function-error"], "Unhandled");
    let unknown = http.post(invoke("nope")).json(&json!({})).send().await.expect("invoke");
    assert_eq!(unknown.status(), 404);
    assert_eq!(unknown.json::<Value>().await.expect("json")["Type"], "User");

    // Fault proxy: the next GetQueueUrl through the proxy fails, then it forwards.
    let proxied = aws_sdk_sqs::Client::from_conf(
        aws_sdk_sqs::config::Builder::from(stack.sdk_config())
            .endpoint_url(stack.proxy_endpoint())
            .retry_config(aws_config::retry::RetryConfig::disabled())
            .build(),
    );
    let faults = http
        .post(format!("{}/__faults", stack.proxy_endpoint()))
        .json(&json!({"operation": "GetQueueUrl", "count": 1, "status": 500, "code": "InternalError", "message": "injected"}))
        .send()
        .await
        .expect("fault");
    assert_eq!(faults.status(), 201);
    assert_eq!(stack.faults().pending().len(), 1);
    let err = proxied.get_queue_url().queue_name("t-echo").send().await.expect_err("injected");
    let text = format!("{}", aws_sdk_sqs::error::DisplayErrorContext(&err));
    assert!(text.contains("InternalError") && text.contains("injected"), "{text}");
    let url = proxied.get_queue_url().queue_name("t-echo").send().await.expect("forwarded");
    assert!(url.queue_url().is_some());
    stack.faults().inject(Fault {
        operation: "*".into(),
        count: 5,
        status: 503,
        code: "ServiceUnavailable".into(),
        message: "down".into(),
    });
    let listed: Vec<Fault> = http
        .get(format!("{}/__faults", stack.proxy_endpoint()))
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    assert_eq!(listed.len(), 1);
    http.delete(format!("{}/__faults", stack.proxy_endpoint())).send().await.expect("clear");
    assert!(stack.faults().pending().is_empty());

    // Secrets the fakes' credentials live in, read through the proxy as a function would.
    let secret = http
        .post(format!("{}/", stack.proxy_endpoint()))
        .header("x-amz-target", "secretsmanager.GetSecretValue")
        .header("content-type", "application/x-amz-json-1.1")
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=test/20260101/eu-west-2/secretsmanager/aws4_request, SignedHeaders=host, Signature=0",
        )
        .body(json!({"SecretId": "echo/notify-api-key"}).to_string())
        .send()
        .await
        .expect("secret");
    assert_eq!(secret.status(), 200);
    assert_eq!(secret.json::<Value>().await.expect("json")["SecretString"], local_stack::LOCAL_NOTIFY_API_KEY);

    // Every request through the proxy is counted, injected faults included.
    let counts = stack.aws_requests();
    assert_eq!(counts.get("SQS.GetQueueUrl"), Some(&2), "{counts:?}");
    assert_eq!(counts.get("SecretsManager.GetSecretValue"), Some(&1), "{counts:?}");
    let served: std::collections::BTreeMap<String, u64> = http
        .get(format!("{}/__requests", stack.proxy_endpoint()))
        .send()
        .await
        .expect("counts")
        .json()
        .await
        .expect("json");
    assert_eq!(served.get("SQS.GetQueueUrl"), Some(&2));
    let reset = http.delete(format!("{}/__requests", stack.proxy_endpoint())).send().await.expect("reset");
    assert_eq!(reset.status(), 204);
    // The pollers keep counting their long polls; the functions' calls are gone.
    assert!(stack.aws_requests().keys().all(|k| k.starts_with("ESM:")), "{:?}", stack.aws_requests());
    stack.reset_aws_requests();
    stack.shutdown().await;
}

/// The fakes run, the template's parameters point at them, and they answer
/// the credentials the stack stored.
#[tokio::test]
async fn functions_are_pointed_at_the_fakes() {
    let Some(stack) = start("functions_are_pointed_at_the_fakes").await else {
        return;
    };
    let zendesk = stack.zendesk_url().expect("zendesk fake");
    let notify = stack.notify_url().expect("notify fake");
    let out = stack.invoke("Echo", json!({})).await.expect("invoke");
    let InvokeOutcome::Ok(body) = out else { panic!("{out:?}") };
    assert_eq!(
        body["third_parties"],
        json!({
            "zendesk_url": zendesk,
            "zendesk_email": local_stack::LOCAL_ZENDESK_EMAIL,
            "notify_url": notify,
            "notify_template_id": local_stack::LOCAL_NOTIFY_TEMPLATE_ID,
        })
    );
    let http = kit::http::client().expect("http client");
    let tickets = http
        .get(format!("{zendesk}/api/v2/tickets.json"))
        .basic_auth(format!("{}/token", local_stack::LOCAL_ZENDESK_EMAIL), Some(local_stack::LOCAL_ZENDESK_TOKEN))
        .send()
        .await
        .expect("tickets");
    assert_eq!(tickets.status(), 200);
    assert_eq!(tickets.json::<Value>().await.expect("json")["count"], 0);
    let anonymous = http.get(format!("{notify}/v2/notifications")).send().await.expect("notifications");
    assert_eq!(anonymous.status(), 401);
    stack.shutdown().await;
}

/// A function whose init fails: start reports it, invocations fail with the
/// exit error instead of hanging, and the process is retried with a backoff.
#[tokio::test]
async fn failed_init_fails_invocations_instead_of_hanging() {
    let Some(options) = common::options_or_skip("failed_init_fails_invocations_instead_of_hanging") else {
        return;
    };
    let stack = LocalStack::start(
        options
            .with_template(common::echo_template())
            .with_bin_dir(common::examples_dir())
            .with_stack_name("f")
            .with_env("ECHO_FAIL_INIT", "1")
            .without_pollers()
            .without_fakes(),
    )
    .await
    .expect("stack starts");
    // Without fakes there is nothing to point at (and nothing panics).
    assert_eq!(stack.zendesk_url(), None);
    assert_eq!(stack.notify_url(), None);
    assert!(matches!(stack.invoker().readiness("Echo"), Some(local_stack::Readiness::Failed(_))));
    let out = tokio::time::timeout(Duration::from_secs(20), stack.invoke("Echo", json!({})))
        .await
        .expect("no hang")
        .expect("invoke");
    let InvokeOutcome::FunctionError(error) = out else { panic!("{out:?}") };
    assert_eq!(error["errorType"], "Runtime.ExitError");
    assert!(stack.init_durations()["Echo"].is_empty());
    stack.shutdown().await;
}

/// A schedule fires at its mark with EventBridge's Scheduled Event (a
/// one-off `at(...)` a few seconds ahead, set through a parameter override).
#[tokio::test]
async fn schedules_fire_at_their_marks() {
    let Some(options) = common::options_or_skip("schedules_fire_at_their_marks") else {
        return;
    };
    // Build the example first: on a cold target that alone can take longer than
    // the lead time, and a one-off schedule whose mark has passed never fires.
    let bin_dir = common::examples_dir();
    use chrono::Timelike as _;
    let at = (chrono::Utc::now() + chrono::TimeDelta::seconds(6)).with_nanosecond(0).expect("whole second");
    let stack = LocalStack::start(
        options
            .with_template(common::echo_template())
            .with_bin_dir(bin_dir)
            .with_stack_name("s")
            .with_parameter("TickAt", at.format("at(%Y-%m-%dT%H:%M:%S)").to_string())
            .without_pollers(),
    )
    .await
    .expect("stack starts");
    assert!(chrono::Utc::now() < at, "the stack took too long to start for this test's lead time");
    eventually("the scheduled invocation", Duration::from_secs(20), || async {
        stack.function_logs("Echo").iter().any(|l| l.contains("echo scheduled: Scheduled Event"))
    })
    .await;
    assert!(chrono::Utc::now() >= at);
    stack.shutdown().await;
}
