//! Serving an axum router on an address until the stack stops.

use std::net::SocketAddr;

use axum::Router;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::error::StackError;

/// A server task and the address it actually listens on (port 0 resolved).
#[derive(Debug)]
pub struct RunningServer {
    pub addr: SocketAddr,
    pub task: JoinHandle<()>,
}

impl RunningServer {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// Binds `addr` and serves `router` (with the peer address available to
/// handlers) until `cancel`.
pub async fn serve(
    what: &'static str,
    addr: SocketAddr,
    router: Router,
    cancel: CancellationToken,
) -> Result<RunningServer, StackError> {
    let bound = bind(what, addr).await?;
    Ok(serve_bound(what, bound, router, cancel))
}

/// A listener bound before its router exists, so its address can be known earlier.
pub struct Bound {
    listener: TcpListener,
    pub addr: SocketAddr,
}

pub async fn bind(what: &'static str, addr: SocketAddr) -> Result<Bound, StackError> {
    let listener = TcpListener::bind(addr).await.map_err(|source| StackError::Bind { what, addr, source })?;
    let addr = listener.local_addr().map_err(|source| StackError::Bind { what, addr, source })?;
    Ok(Bound { listener, addr })
}

/// Serves `router` on an already bound listener until `cancel`.
pub fn serve_bound(what: &'static str, bound: Bound, router: Router, cancel: CancellationToken) -> RunningServer {
    let Bound { listener, addr } = bound;
    info!(%addr, "{what} listening");
    let service = router.into_make_service_with_connect_info::<SocketAddr>();
    let task = tokio::spawn(async move {
        let served = axum::serve(listener, service).with_graceful_shutdown(cancel.cancelled_owned()).await;
        if let Err(e) = served {
            warn!(error = %e, "{what} stopped with an error");
        }
    });
    RunningServer { addr, task }
}
