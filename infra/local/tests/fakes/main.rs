//! The Zendesk, GOV.UK Notify and Amazon Connect fakes, each served in-process on a free port
//! and driven over HTTP as a function would drive the real service.

mod connect;
mod faults;
mod notify;
mod zendesk;

use std::net::SocketAddr;

use local_stack::FakeServer;

pub fn any_port() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

pub async fn zendesk() -> FakeServer {
    FakeServer::start_zendesk(any_port()).await.expect("zendesk fake starts")
}

pub async fn notify() -> FakeServer {
    FakeServer::start_notify(any_port()).await.expect("notify fake starts")
}

pub async fn connect() -> FakeServer {
    FakeServer::start_connect(any_port()).await.expect("connect fake starts")
}
