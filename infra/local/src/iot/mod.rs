//! AWS IoT Core, locally: the MQTT-over-WebSocket endpoint browsers subscribe on
//! (`ws://127.0.0.1:4580/mqtt`), its connections authorised by the template's
//! custom authorizer — the real function, invoked through the local Lambda
//! service with IoT's event — and the policy it returns enforced on every
//! CONNECT, SUBSCRIBE, PUBLISH and delivery; and the data plane's `Publish`,
//! served through the AWS proxy (so SigV4 identity and IAM are checked as for
//! every call), delivered to subscribers. A small MQTT 3.1.1 broker on
//! rumqttc's codec (docs/decisions.md says why not an existing broker).

pub mod authorizer;
pub mod broker;
pub mod client;
mod connection;
pub mod data_plane;
pub mod policy;
pub mod topics;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

pub use authorizer::{authorizers, CustomAuthorizer, IotSetupError};
pub use broker::Broker;

use crate::error::StackError;
use crate::lambda::Invoker;

/// The local IoT Core: broker, authorizers, and the Lambda service that runs them.
pub struct IotCore {
    pub broker: Arc<Broker>,
    pub authorizers: Vec<CustomAuthorizer>,
    pub invoker: Invoker,
    /// What clients connect to (the `tls.serverName` of the authorizer's event).
    pub host: String,
}

/// Binds `addr`; the returned listener is served by [`serve`] once the functions run.
pub async fn bind(addr: SocketAddr) -> Result<(TcpListener, SocketAddr), StackError> {
    let what = "IoT Core MQTT over WebSocket";
    let listener = TcpListener::bind(addr).await.map_err(|source| StackError::Bind { what, addr, source })?;
    let addr = listener.local_addr().map_err(|source| StackError::Bind { what, addr, source })?;
    Ok((listener, addr))
}

/// Accepts connections until `cancel`; each is served on its own task.
pub fn serve(core: Arc<IotCore>, listener: TcpListener, cancel: CancellationToken) -> JoinHandle<()> {
    let addr = listener.local_addr().ok();
    info!(addr = ?addr, "IoT Core MQTT over WebSocket listening on /mqtt");
    tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                () = cancel.cancelled() => break,
            };
            match accepted {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    tokio::spawn(connection::serve(core.clone(), stream, peer, cancel.clone()));
                }
                Err(e) => {
                    warn!(error = %e, "IoT accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            }
        }
    })
}
