//! A subscriber on the local IoT Core, over MQTT over WebSocket with rumqttc:
//! what the demo, `local-stack subscribe`, the bench and the tests connect with,
//! as a browser would (user name, the API token as password, the authorizer
//! named in the URL).

use std::time::Duration;

use bytes::Bytes;
use rumqttc::mqttbytes::v4::{ConnectReturnCode, Packet, SubscribeReasonCode};
use rumqttc::{AsyncClient, ConnectionError, Event, MqttOptions, QoS, Transport};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::authorizer::AUTHORIZER_NAME_PARAM;

/// What a connection attempt or an open connection ran into.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    #[error("the broker refused the connection: {0:?}")]
    Refused(ConnectReturnCode),
    #[error("connection ended: {0}")]
    Closed(String),
    #[error("no answer in time")]
    Timeout,
    #[error("cannot send: {0}")]
    Send(String),
}

/// One message received, and when.
#[derive(Debug, Clone)]
pub struct Received {
    pub topic: String,
    pub payload: Bytes,
    pub at: Instant,
}

enum Incoming {
    Connected,
    SubAck(Vec<SubscribeReasonCode>),
    Message(Received),
    Ended(ClientError),
}

pub struct Subscriber {
    client: AsyncClient,
    events: mpsc::UnboundedReceiver<Incoming>,
    task: JoinHandle<()>,
    /// Messages that arrived while waiting for something else.
    pending: std::collections::VecDeque<Received>,
    ended: Option<ClientError>,
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Where to connect: the broker's URL and the custom authorizer to name.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub mqtt_url: String,
    pub authorizer: String,
}

impl Endpoint {
    pub fn url(&self) -> String {
        format!("{}?{AUTHORIZER_NAME_PARAM}={}", self.mqtt_url, self.authorizer)
    }
}

/// Connects as `username` with `password` (the API token). Refused or broken
/// connections are errors; a refused one says IoT's return code.
pub async fn connect(
    endpoint: &Endpoint,
    client_id: &str,
    username: &str,
    password: &str,
    within: Duration,
) -> Result<Subscriber, ClientError> {
    let mut options = MqttOptions::new(client_id, endpoint.url(), 0);
    options.set_transport(Transport::Ws);
    options.set_keep_alive(Duration::from_secs(30));
    options.set_clean_session(true);
    options.set_credentials(username, password);
    options.set_max_packet_size(256 * 1024, 256 * 1024);
    let (client, mut eventloop) = AsyncClient::new(options, 64);
    let (tx, events) = mpsc::unbounded_channel();
    let task = tokio::spawn(async move {
        loop {
            let incoming = match eventloop.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(_))) => Incoming::Connected,
                Ok(Event::Incoming(Packet::SubAck(ack))) => Incoming::SubAck(ack.return_codes),
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    Incoming::Message(Received { topic: p.topic, payload: p.payload, at: Instant::now() })
                }
                Ok(_) => continue,
                Err(ConnectionError::ConnectionRefused(code)) => Incoming::Ended(ClientError::Refused(code)),
                Err(e) => Incoming::Ended(ClientError::Closed(e.to_string())),
            };
            let ended = matches!(incoming, Incoming::Ended(_));
            if tx.send(incoming).is_err() || ended {
                break;
            }
        }
    });
    let mut subscriber = Subscriber { client, events, task, pending: Default::default(), ended: None };
    match tokio::time::timeout(within, subscriber.events.recv()).await {
        Ok(Some(Incoming::Connected)) => Ok(subscriber),
        Ok(Some(Incoming::Ended(e))) => Err(e),
        Ok(_) => Err(ClientError::Closed("no CONNACK".to_owned())),
        Err(_) => Err(ClientError::Timeout),
    }
}

impl Subscriber {
    fn take(&mut self, incoming: Incoming) -> Option<Vec<SubscribeReasonCode>> {
        match incoming {
            Incoming::SubAck(codes) => return Some(codes),
            Incoming::Message(m) => self.pending.push_back(m),
            Incoming::Ended(e) => self.ended = Some(e),
            Incoming::Connected => {}
        }
        None
    }

    /// Subscribes (QoS 1); whether the broker granted it.
    pub async fn subscribe(&mut self, filter: &str, within: Duration) -> Result<bool, ClientError> {
        self.client.subscribe(filter, QoS::AtLeastOnce).await.map_err(|e| ClientError::Send(e.to_string()))?;
        let deadline = Instant::now() + within;
        loop {
            if let Some(e) = &self.ended {
                return Err(e.clone());
            }
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(incoming)) => {
                    if let Some(codes) = self.take(incoming) {
                        return Ok(codes.iter().all(|c| matches!(c, SubscribeReasonCode::Success(_))));
                    }
                }
                Ok(None) => return Err(ClientError::Closed("event loop stopped".to_owned())),
                Err(_) => return Err(ClientError::Timeout),
            }
        }
    }

    /// The next message, if one arrives within `within`.
    pub async fn next_message(&mut self, within: Duration) -> Option<Received> {
        if let Some(m) = self.pending.pop_front() {
            return Some(m);
        }
        let deadline = Instant::now() + within;
        loop {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(incoming)) => {
                    self.take(incoming);
                    if let Some(m) = self.pending.pop_front() {
                        return Some(m);
                    }
                    if self.ended.is_some() {
                        return None;
                    }
                }
                Ok(None) | Err(_) => return None,
            }
        }
    }

    /// Publishes (QoS 1), as a client that tries to write would.
    pub async fn publish(&self, topic: &str, payload: &[u8]) -> Result<(), ClientError> {
        self.client
            .publish(topic, QoS::AtLeastOnce, false, payload.to_vec())
            .await
            .map_err(|e| ClientError::Send(e.to_string()))
    }

    /// Waits until the connection ends; the reason, or `None` if still open after `within`.
    pub async fn ended(&mut self, within: Duration) -> Option<ClientError> {
        let deadline = Instant::now() + within;
        while self.ended.is_none() {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(incoming)) => {
                    self.take(incoming);
                }
                Ok(None) => return Some(ClientError::Closed("event loop stopped".to_owned())),
                Err(_) => return None,
            }
        }
        self.ended.clone()
    }

    pub async fn disconnect(self) {
        // Best effort: the connection may already be gone.
        let _ = self.client.disconnect().await;
    }
}
