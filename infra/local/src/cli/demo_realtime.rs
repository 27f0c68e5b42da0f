//! Demo steps for the real-time channel: a browser-like subscriber on the local
//! IoT Core (MQTT over WebSocket, the API token as password) that prints each
//! notification the moment it arrives, between the demo's other lines.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Context as _;
use local_stack::iot::client::{connect, Endpoint};
use local_stack::{mint_token, TokenRequest};
use serde::Deserialize;
use serde_json::Value;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::state::StackState;

/// `{"subscribe": {"as_user": "123456789"}}`: connect as the user and subscribe to
/// `notifications-{user}`; messages are printed as they come until `unsubscribe`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subscribe {
    as_user: String,
}

/// `{"unsubscribe": {"as_user": "123456789"}}`: disconnect, saying how many arrived.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Unsubscribe {
    as_user: String,
}

/// The demo's open subscriptions.
#[derive(Default)]
pub struct Subscriptions {
    open: BTreeMap<String, (CancellationToken, JoinHandle<usize>)>,
}

fn endpoint(stack: &StackState) -> anyhow::Result<Endpoint> {
    Ok(Endpoint {
        mqtt_url: stack.mqtt.clone().context("this stack serves no MQTT (IoT Core) endpoint")?,
        authorizer: stack.iot_authorizer.clone().context("the template has no IoT custom authorizer")?,
    })
}

pub async fn subscribe(
    subscriptions: &mut Subscriptions,
    stack: &StackState,
    secret: &str,
    step: &Subscribe,
) -> anyhow::Result<()> {
    let user = &step.as_user;
    let token = mint_token(
        secret,
        &TokenRequest {
            subject: user.clone(),
            issuer: stack.jwt.issuer.clone(),
            audience: stack.jwt.audience.clone(),
            ttl: Duration::from_secs(3600),
            claims: BTreeMap::new(),
        },
    )?;
    let endpoint = endpoint(stack)?;
    let topic = format!("notifications-{user}");
    let mut subscriber = connect(&endpoint, &format!("{user}/demo"), user, &token, Duration::from_secs(10))
        .await
        .with_context(|| format!("connecting to {} as {user}", endpoint.mqtt_url))?;
    anyhow::ensure!(subscriber.subscribe(&topic, Duration::from_secs(10)).await?, "subscribing to {topic} was refused");
    println!(
        "[MQTT] {user} connected to {} (authorizer {}), subscribed to {topic}",
        endpoint.mqtt_url, endpoint.authorizer
    );
    let cancel = CancellationToken::new();
    let stop = cancel.clone();
    let task = tokio::spawn(async move {
        let mut received = 0;
        loop {
            let message = tokio::select! {
                m = subscriber.next_message(Duration::from_secs(3600)) => m,
                () = stop.cancelled() => break,
            };
            let Some(m) = message else { break };
            received += 1;
            let text = serde_json::from_slice::<Value>(&m.payload)
                .ok()
                .and_then(|v| v.pointer("/notification/message").and_then(Value::as_str).map(str::to_owned))
                .unwrap_or_else(|| String::from_utf8_lossy(&m.payload).into_owned());
            println!("  [MQTT {} {}] {text}", m.topic, chrono::Utc::now().format("%H:%M:%S%.3f"));
        }
        subscriber.disconnect().await;
        received
    });
    subscriptions.open.insert(user.clone(), (cancel, task));
    Ok(())
}

pub async fn unsubscribe(subscriptions: &mut Subscriptions, step: &Unsubscribe) -> anyhow::Result<()> {
    let (cancel, task) =
        subscriptions.open.remove(&step.as_user).with_context(|| format!("{} is not subscribed", step.as_user))?;
    cancel.cancel();
    let received = task.await.unwrap_or(0);
    println!("[MQTT] {} disconnected after {received} live notification(s)", step.as_user);
    Ok(())
}
