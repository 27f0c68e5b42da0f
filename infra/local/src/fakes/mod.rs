//! Fakes of the third-party services functions call: Zendesk (tickets),
//! GOV.UK Notify (email) and Amazon Connect (DescribeContact). Each speaks the real API's paths, auth and error
//! bodies closely enough that a function cannot tell, keeps what it was sent
//! in memory (readable through the same API's GET endpoints), and fails on
//! request (`POST /__faults`) the way the real service fails under load.

pub mod connect;
pub mod faults;
pub mod identity;
pub mod notify;
pub mod parameters;
pub mod zendesk;

use std::net::SocketAddr;

use axum::http::HeaderMap;
use axum::Router;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::error::StackError;
use crate::server::serve;

pub use faults::{FaultConfig, FaultKind};
pub use parameters::{connect_instance_parameter, connect_parameters, fake_parameters, fake_secrets};

/// The agent the functions authenticate to Zendesk as.
pub const LOCAL_ZENDESK_EMAIL: &str = "agent@zendesk.local";
/// The only API token the Zendesk fake accepts.
pub const LOCAL_ZENDESK_TOKEN: &str = "local-zendesk-api-token";

// Macros, not consts, so the API key below can be built with `concat!`.
macro_rules! notify_service_id {
    () => {
        "10ca1000-5e71-4ce0-8000-000000000001"
    };
}
macro_rules! notify_secret {
    () => {
        "10ca1000-5ec7-4e70-8000-000000000002"
    };
}

/// The service the Notify fake is (the `iss` of every token).
pub const LOCAL_NOTIFY_SERVICE_ID: &str = notify_service_id!();
/// The secret Notify tokens are signed with.
pub const LOCAL_NOTIFY_SECRET: &str = notify_secret!();
/// A Notify API key as GOV.UK Notify issues them: key name, service id, secret.
pub const LOCAL_NOTIFY_API_KEY: &str = concat!("local-", notify_service_id!(), "-", notify_secret!());
/// The one template the Notify fake knows.
pub const LOCAL_NOTIFY_TEMPLATE_ID: &str = "10ca1000-7e17-4a7e-8000-000000000003";

/// A fake served in this process until stopped or dropped.
#[derive(Debug)]
pub struct FakeServer {
    addr: SocketAddr,
    cancel: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl FakeServer {
    /// Serves the Zendesk fake on `addr` (port 0 picks a free port).
    pub async fn start_zendesk(addr: SocketAddr) -> Result<Self, StackError> {
        Self::start("Zendesk fake", addr, zendesk::router()).await
    }

    /// Serves the GOV.UK Notify fake on `addr` (port 0 picks a free port).
    pub async fn start_notify(addr: SocketAddr) -> Result<Self, StackError> {
        Self::start("GOV.UK Notify fake", addr, notify::router()).await
    }

    /// Serves the Amazon Connect fake on `addr` (port 0 picks a free port).
    pub async fn start_connect(addr: SocketAddr) -> Result<Self, StackError> {
        Self::start("Amazon Connect fake", addr, connect::router()).await
    }

    async fn start(what: &'static str, addr: SocketAddr, router: Router) -> Result<Self, StackError> {
        let cancel = CancellationToken::new();
        let running = serve(what, addr, router, cancel.clone()).await?;
        Ok(Self { addr: running.addr, cancel, task: Some(running.task) })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops serving and waits for the server to finish.
    pub async fn stop(mut self) {
        self.cancel.cancel();
        if let Some(task) = self.task.take() {
            if let Err(e) = task.await {
                tracing::warn!(error = %e, "fake server task ended abnormally");
            }
        }
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// The base URL the caller reached us on, for the absolute URLs both real
/// services put in their responses.
fn base_url(headers: &HeaderMap) -> String {
    let host = headers.get("host").and_then(|v| v.to_str().ok()).filter(|h| !h.is_empty()).unwrap_or("localhost");
    format!("http://{host}")
}

/// Now, as both services write timestamps.
fn now_timestamp() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notify_api_key_has_notifys_shape() {
        // The client library takes the last 36 characters as the secret and
        // the 36 before the separating hyphen as the service id.
        let key = LOCAL_NOTIFY_API_KEY;
        assert_eq!(&key[key.len() - 36..], LOCAL_NOTIFY_SECRET);
        assert_eq!(&key[key.len() - 73..key.len() - 37], LOCAL_NOTIFY_SERVICE_ID);
        for id in [LOCAL_NOTIFY_SERVICE_ID, LOCAL_NOTIFY_SECRET, LOCAL_NOTIFY_TEMPLATE_ID] {
            assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
        }
    }
}
