//! iot-authorizer: AWS IoT Core's custom authorizer for the notification topics.
//! Clients connect over MQTT over WebSocket with their API token as the MQTT
//! password; a valid token gets connect, subscribe and receive on
//! `notifications-{sub}` only.

mod config;
mod event;
mod handler;
mod jwks;
mod policy;
mod token;

use lambda_runtime::{service_fn, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    kit::telemetry::init();
    // No AWS client and no metrics: only the configuration, read once.
    let config = kit::config::or_exit(config::Config::read(kit::config::Env::from_process()));
    let client = kit::http::client()?;
    let authorizer = handler::Authorizer {
        keys: jwks::Jwks::new(config.keys, client),
        expected: config.expected,
        policy: config.policy,
    };
    let authorizer = &authorizer;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<event::AuthorizerEvent>| async move {
        let response = authorizer.handle(&event.payload, chrono::Utc::now().timestamp()).await?;
        Ok::<event::AuthorizerResponse, lambda_runtime::Error>(response)
    }))
    .await
}
