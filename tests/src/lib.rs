//! The test driver: a local stack per test (own emulator on a free port, the
//! template provisioned, the real function binaries running), plus helpers that
//! poll with a deadline instead of sleeping.

pub mod chaos;
pub mod connect_logs;
pub mod contacts_load;
pub mod iam_coverage;
pub mod providers;
pub mod realtime;
pub mod workflows;

use std::future::Future;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The workspace root (this crate lives in `tests/`).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().map(PathBuf::from).unwrap_or_default()
}

/// The one retry setting the tests change: every retry wait runs this many times
/// faster than shipped (a 15-minute wait lasts 1.5 s, the 24-hour budget about 2.5
/// minutes), with the same receive counts and the same schedule shape. Nothing
/// else about retries, receive counts or timeouts is overridden anywhere.
pub const TIME_SCALE: f64 = 600.0;

/// [`TIME_SCALE`] as the local stack takes it.
pub fn time_scale() -> kit::retry::TimeScale {
    kit::retry::TimeScale::new(TIME_SCALE).unwrap_or_default()
}

/// Where `cargo build --workspace --bins` put the function binaries.
pub fn bin_dir() -> PathBuf {
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| workspace_root().join("target"));
    target.join("debug")
}

/// A function's binary; panics with the fix if it has not been built.
pub fn function_binary(name: &str) -> PathBuf {
    let path = bin_dir().join(name);
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --workspace --bins` first (`make test` does)",
        path.display()
    );
    path
}

/// Polls `check` until it returns `Some`, or fails the test with `what` after `timeout`.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(50);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out after {timeout:?} waiting for {what}");
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(500));
    }
}

use std::collections::HashMap;

use local_stack::{Fault, LocalStack, StackOptions, TokenRequest};

/// One received SQS message: body plus string message attributes.
#[derive(Debug, Clone)]
pub struct Received {
    pub body: String,
    pub attributes: HashMap<String, String>,
}

/// A running local stack and the clients a test needs. Dropping it stops everything.
pub struct Driver {
    stack: LocalStack,
    http: reqwest::Client,
}

impl Driver {
    /// Emulator, template resources, every function and poller, HTTP API, on the
    /// shipped configuration with retry waits compressed by [`TIME_SCALE`]. SQS
    /// steps make one SDK attempt per call (as shipped), so an injected fault is
    /// one failed receive.
    pub async fn start() -> Self {
        let options = StackOptions::default().with_bin_dir(bin_dir()).with_time_scale(time_scale()).quiet();
        Self::start_with(options).await
    }

    /// Emulator and template resources only: for adapter tests.
    pub async fn start_resources_only() -> Self {
        Self::start_with(StackOptions::default().without_functions().without_pollers().without_schedules().quiet())
            .await
    }

    pub async fn start_with(options: StackOptions) -> Self {
        let stack = match LocalStack::start(options).await {
            Ok(s) => s,
            Err(e) => panic!("local stack did not start: {e} (does `make venv` need running?)"),
        };
        Self { stack, http: kit::http::client().expect("http client") }
    }

    pub fn stack(&self) -> &LocalStack {
        &self.stack
    }

    pub fn unique_user(&self) -> String {
        format!("user-{}", uuid::Uuid::new_v4().simple())
    }

    pub fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(self.stack.sdk_config())
    }
    pub fn sqs(&self) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::new(self.stack.sdk_config())
    }
    pub fn sns(&self) -> aws_sdk_sns::Client {
        aws_sdk_sns::Client::new(self.stack.sdk_config())
    }

    pub fn table(&self, logical_id: &str) -> String {
        self.stack.provisioned().table_name(logical_id).map(str::to_owned).unwrap_or_else(|e| panic!("{e}"))
    }
    pub fn queue_url(&self, logical_id: &str) -> String {
        self.stack.provisioned().queue_url(logical_id).map(str::to_owned).unwrap_or_else(|e| panic!("{e}"))
    }
    pub fn queue_arn(&self, logical_id: &str) -> String {
        self.stack.provisioned().queue_arn(logical_id).map(str::to_owned).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Sends login bodies to `login-events` (batches of 10, as a producer would).
    pub async fn send_logins(&self, events: &[serde_json::Value]) {
        let bodies: Vec<String> = events.iter().map(|e| e.to_string()).collect();
        self.send_bodies(&bodies).await;
    }

    pub async fn send_bodies(&self, bodies: &[String]) {
        self.send_bodies_to("LoginEventsQueue", bodies).await;
    }

    /// Sends bodies to the queue with this logical id, in batches of 10.
    pub async fn send_bodies_to(&self, queue: &str, bodies: &[String]) {
        let url = self.queue_url(queue);
        for chunk in bodies.chunks(10) {
            let mut req = self.sqs().send_message_batch().queue_url(&url);
            for (i, body) in chunk.iter().enumerate() {
                let entry = aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message_body(body)
                    .build()
                    .expect("valid batch entry");
                req = req.entries(entry);
            }
            let out = req.send().await.expect("SendMessageBatch");
            assert!(out.failed().is_empty(), "SendMessageBatch failures: {:?}", out.failed());
        }
    }

    /// Waits until `login-events` holds no visible or in-flight message.
    pub async fn wait_drained(&self) {
        self.wait_queues_drained(&["LoginEventsQueue"], Duration::from_secs(60)).await;
    }

    /// Waits until every listed queue holds no visible or in-flight message.
    pub async fn wait_queues_drained(&self, queues: &[&str], timeout: Duration) {
        let urls: Vec<String> = queues.iter().map(|q| self.queue_url(q)).collect();
        let sqs = self.sqs();
        eventually(&format!("{queues:?} drained"), timeout, || async {
            for url in &urls {
                if local_stack::queues::depth(&sqs, url).await.ok()? != 0 {
                    return None;
                }
            }
            Some(())
        })
        .await;
    }

    /// Every message now in the login-events DLQ (received, then made visible again).
    pub async fn dlq_messages(&self) -> Vec<Received> {
        self.messages_in("LoginEventsDlq").await
    }

    /// Every message now in the queue with this logical id (received, then made visible again).
    pub async fn messages_in(&self, queue: &str) -> Vec<Received> {
        let url = self.queue_url(queue);
        self.peek_all(&url).await
    }

    /// One ReceiveMessage call: up to 10 messages with their attributes.
    async fn receive_batch(&self, url: &str, visibility_secs: i32) -> Vec<aws_sdk_sqs::types::Message> {
        self.sqs()
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .message_attribute_names("All")
            .visibility_timeout(visibility_secs)
            .wait_time_seconds(1)
            .send()
            .await
            .expect("ReceiveMessage")
            .messages
            .unwrap_or_default()
    }

    /// Receives everything visible in a queue and deletes it.
    pub async fn receive_all(&self, url: &str) -> Vec<Received> {
        let mut out = Vec::new();
        loop {
            let messages = self.receive_batch(url, 30).await;
            if messages.is_empty() {
                return out;
            }
            for m in &messages {
                out.push(received(m));
                if let Some(rh) = m.receipt_handle() {
                    self.sqs().delete_message().queue_url(url).receipt_handle(rh).send().await.expect("DeleteMessage");
                }
            }
        }
    }

    /// Receives everything visible without consuming it (made visible again at the end).
    async fn peek_all(&self, url: &str) -> Vec<Received> {
        let mut out = Vec::new();
        let mut handles = Vec::new();
        loop {
            let messages = self.receive_batch(url, 30).await;
            if messages.is_empty() {
                break;
            }
            for m in &messages {
                out.push(received(m));
                handles.extend(m.receipt_handle().map(str::to_owned));
            }
        }
        for rh in handles {
            self.sqs()
                .change_message_visibility()
                .queue_url(url)
                .receipt_handle(rh)
                .visibility_timeout(0)
                .send()
                .await
                .expect("ChangeMessageVisibility");
        }
        out
    }

    /// A topic with one raw-delivery SQS subscription, created outside the template.
    pub async fn topic_with_raw_queue_subscription(&self, name: &str) -> (String, String) {
        let topic = self.sns().create_topic().name(name).send().await.expect("CreateTopic");
        let topic_arn = topic.topic_arn().unwrap_or_default().to_owned();
        let queue = self.sqs().create_queue().queue_name(format!("{name}-sub")).send().await.expect("CreateQueue");
        let url = queue.queue_url().unwrap_or_default().to_owned();
        let attrs = self
            .sqs()
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await
            .expect("GetQueueAttributes");
        let arn = attrs
            .attributes()
            .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn))
            .cloned()
            .unwrap_or_default();
        self.sns()
            .subscribe()
            .topic_arn(&topic_arn)
            .protocol("sqs")
            .endpoint(arn)
            .attributes("RawMessageDelivery", "true")
            .send()
            .await
            .expect("Subscribe");
        (topic_arn, url)
    }

    pub fn token(&self, user: &str) -> String {
        self.stack.token_for(user).expect("mint token")
    }

    /// A client signing with SigV4 as a principal of the stack (a named principal
    /// such as `approval-service`, or a function name), for `AWS_IAM` routes.
    pub fn signer(&self, principal: &str) -> local_stack::SigV4Client {
        local_stack::SigV4Client::as_principal(&self.stack, principal)
            .unwrap_or_else(|| panic!("the local stack has no principal {principal} (is IAM on?)"))
    }

    /// A token with the right claims signed with the wrong key.
    pub fn forged_token(&self, user: &str) -> String {
        let settings = self.stack.jwt_settings();
        local_stack::mint_token(
            "not-the-local-secret",
            &TokenRequest {
                subject: user.to_owned(),
                issuer: settings.issuer.clone(),
                audience: settings.audience.clone(),
                ttl: Duration::from_secs(600),
                claims: Default::default(),
            },
        )
        .expect("mint")
    }

    /// A correctly signed token that expired an hour ago.
    pub fn expired_token(&self, user: &str) -> String {
        use jsonwebtoken::{encode, EncodingKey, Header};
        let settings = self.stack.jwt_settings();
        let now = chrono::Utc::now().timestamp();
        let claims = serde_json::json!({
            "sub": user, "iss": settings.issuer, "aud": settings.audience,
            "iat": now - 7200, "exp": now - 3600,
        });
        let secret = std::env::var("LOCAL_JWT_SECRET")
            .ok()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| local_stack::DEFAULT_JWT_SECRET.to_owned());
        encode(&Header::default(), &claims, &EncodingKey::from_secret(secret.as_bytes())).expect("encode")
    }

    /// GET on the local HTTP API as `user`: (status, JSON body).
    pub async fn get_json(&self, path: &str, user: &str) -> (u16, serde_json::Value) {
        let resp = self
            .http
            .get(format!("{}{path}", self.stack.http_url()))
            .bearer_auth(self.token(user))
            .send()
            .await
            .expect("HTTP API request");
        let status = resp.status().as_u16();
        let body = resp.json().await.unwrap_or(serde_json::Value::Null);
        (status, body)
    }

    /// GET with an optional raw Authorization header: the status.
    pub async fn get_with_header(&self, path: &str, authorization: Option<String>) -> u16 {
        let mut req = self.http.get(format!("{}{path}", self.stack.http_url()));
        if let Some(a) = authorization {
            req = req.header("authorization", a);
        }
        req.send().await.expect("HTTP API request").status().as_u16()
    }

    /// Makes the next `count` `operation` requests from functions fail.
    pub async fn inject_fault(&self, operation: &str, count: u32, status: u16, code: &str) {
        let fault = Fault {
            operation: operation.to_owned(),
            count,
            status,
            code: code.to_owned(),
            message: "injected by test".to_owned(),
        };
        let resp = self
            .http
            .post(format!("{}/__faults", self.stack.proxy_endpoint()))
            .json(&fault)
            .send()
            .await
            .expect("POST /__faults");
        assert!(resp.status().is_success(), "fault not accepted: {}", resp.status());
    }

    /// How many injected failures have not been hit yet.
    pub async fn remaining_faults(&self) -> u32 {
        self.stack.faults().pending().iter().map(|f| f.count).sum()
    }

    pub fn function_logs(&self, function: &str) -> Vec<String> {
        self.stack.function_logs(function)
    }
}

fn received(m: &aws_sdk_sqs::types::Message) -> Received {
    let attributes = m
        .message_attributes()
        .map(|a| a.iter().filter_map(|(k, v)| v.string_value().map(|s| (k.clone(), s.to_owned()))).collect())
        .unwrap_or_default();
    Received { body: m.body().unwrap_or_default().to_owned(), attributes }
}
