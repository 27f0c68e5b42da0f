//! Seed 004 helpers: tokens carrying role claims (as Cognito groups would), JSON
//! calls with them, and a raw-delivery queue on a template topic to capture events.

use std::collections::BTreeMap;
use std::time::Duration;

use local_stack::{mint_token, LocalStack, TokenRequest};
use serde_json::Value;

use crate::Driver;

/// A valid local token for `user` with `roles` as a `roles` claim rendered `[a b]`, the
/// string API Gateway hands the function for an array claim (as Cognito groups would
/// be; a plain `a b` is the one name `a b`), for the stack `stack`.
pub fn token_with_roles(stack: &LocalStack, user: &str, roles: &[&str]) -> String {
    let settings = stack.jwt_settings();
    let secret = std::env::var("LOCAL_JWT_SECRET")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| local_stack::DEFAULT_JWT_SECRET.to_owned());
    let claims = if roles.is_empty() {
        BTreeMap::new()
    } else {
        BTreeMap::from([("roles".to_owned(), format!("[{}]", roles.join(" ")))])
    };
    mint_token(
        &secret,
        &TokenRequest {
            subject: user.to_owned(),
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
            ttl: Duration::from_secs(600),
            claims,
        },
    )
    .expect("mint")
}

impl Driver {
    /// A valid token for `user` with `roles` as a `[a b]` `roles` claim.
    pub fn token_with_roles(&self, user: &str, roles: &[&str]) -> String {
        token_with_roles(self.stack(), user, roles)
    }

    /// `method path` on the HTTP API as `user` with `roles`: (status, JSON body).
    pub async fn call_as(
        &self,
        method: &str,
        path: &str,
        user: &str,
        roles: &[&str],
        body: Option<&Value>,
    ) -> (u16, Value) {
        let url = format!("{}{path}", self.stack().http_url());
        let client = kit::http::client().expect("http client");
        let mut req = match method {
            "GET" => client.get(url),
            "POST" => client.post(url),
            other => panic!("no method {other}"),
        };
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.bearer_auth(self.token_with_roles(user, roles)).send().await.expect("HTTP API request");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// A new queue subscribed with raw delivery to the template topic `topic`: every
    /// event published from now on, exactly as the step queues receive it.
    pub async fn capture_topic(&self, topic: &str) -> String {
        capture_topic(self.stack(), topic).await.unwrap_or_else(|e| panic!("capture {topic}: {e:#}"))
    }
}

/// A new queue subscribed with raw delivery to the template topic `topic` of `stack`:
/// every event published from now on, exactly as the step queues receive it.
pub async fn capture_topic(stack: &LocalStack, topic: &str) -> anyhow::Result<String> {
    let topic_arn = stack.provisioned().topic_arn(topic)?.to_owned();
    let sqs = aws_sdk_sqs::Client::new(stack.sdk_config());
    let sns = aws_sdk_sns::Client::new(stack.sdk_config());
    let name = format!("capture-{}", uuid::Uuid::new_v4().simple());
    let url = sqs.create_queue().queue_name(&name).send().await?.queue_url().unwrap_or_default().to_owned();
    let ctx = stack.context();
    let arn = format!("arn:aws:sqs:{}:{}:{name}", ctx.region, ctx.account_id);
    sns.subscribe()
        .topic_arn(topic_arn)
        .protocol("sqs")
        .endpoint(arn)
        .attributes("RawMessageDelivery", "true")
        .send()
        .await?;
    Ok(url)
}
