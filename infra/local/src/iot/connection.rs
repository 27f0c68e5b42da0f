//! One MQTT-over-WebSocket connection, as IoT Core's device gateway serves it
//! (MQTT 3.1.1): the upgrade on `/mqtt` with subprotocol `mqtt`, a CONNECT
//! authorised by the named custom authorizer, then SUBSCRIBE, PUBLISH and
//! deliveries each checked against the connection's policy. A refused
//! subscription gets SUBACK 0x80; a refused publish, or a protocol error, ends
//! the connection, as IoT does.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use async_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use async_tungstenite::tungstenite::http::{HeaderValue, StatusCode};
use async_tungstenite::tungstenite::Message;
use bytes::BytesMut;
use futures::StreamExt;
use rumqttc::mqttbytes::v4::{
    ConnAck, ConnectReturnCode, Packet, PubAck, Publish, SubAck, SubscribeReasonCode, UnsubAck,
};
use rumqttc::mqttbytes::QoS;
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info};

use super::authorizer::{authorize, requested_name, ConnectAttempt};
use super::policy::{Authorization, ConnectionPolicy};
use super::topics::{valid_filter, valid_topic};
use super::IotCore;

/// IoT Core's largest message (128 KiB) plus room for the header.
const MAX_PACKET: usize = 128 * 1024 + 1024;
/// How long a new connection has to send CONNECT.
const CONNECT_WITHIN: Duration = Duration::from_secs(10);

/// What the upgrade request said.
#[derive(Default)]
struct Upgrade {
    query: Option<String>,
    headers: BTreeMap<String, String>,
}

type Ws = async_tungstenite::WebSocketStream<async_tungstenite::tokio::TokioAdapter<TcpStream>>;

fn refuse(status: StatusCode, text: &str) -> ErrorResponse {
    let mut response = ErrorResponse::new(Some(text.to_owned()));
    *response.status_mut() = status;
    response
}

async fn upgrade(stream: TcpStream) -> Option<(Ws, Upgrade)> {
    let seen = Arc::new(std::sync::Mutex::new(Upgrade::default()));
    let record = seen.clone();
    // The signature is tungstenite's handshake callback's; its error is its HTTP response.
    #[allow(clippy::result_large_err)]
    let callback = move |request: &Request, mut response: Response| -> Result<Response, ErrorResponse> {
        if request.uri().path() != "/mqtt" {
            return Err(refuse(StatusCode::NOT_FOUND, "MQTT over WebSocket is served on /mqtt"));
        }
        let offers_mqtt = request
            .headers()
            .get_all("sec-websocket-protocol")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|p| p.trim() == "mqtt");
        if !offers_mqtt {
            return Err(refuse(StatusCode::BAD_REQUEST, "the WebSocket subprotocol must be mqtt"));
        }
        response.headers_mut().insert("sec-websocket-protocol", HeaderValue::from_static("mqtt"));
        if let Ok(mut seen) = record.lock() {
            seen.query = request.uri().query().map(str::to_owned);
            seen.headers = request
                .headers()
                .iter()
                .filter(|(k, _)| k.as_str() != "authorization" && k.as_str() != "cookie")
                .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str().to_owned(), v.to_owned())))
                .collect();
        }
        Ok(response)
    };
    let ws = match async_tungstenite::tokio::accept_hdr_async(stream, callback).await {
        Ok(ws) => ws,
        Err(e) => {
            debug!(error = %e, "WebSocket upgrade refused");
            return None;
        }
    };
    let upgrade = seen.lock().map(|mut s| std::mem::take(&mut *s)).unwrap_or_default();
    Some((ws, upgrade))
}

/// Reads MQTT packets out of WebSocket frames (a frame may hold part of a packet or several).
struct Reader {
    buffer: BytesMut,
}

enum Read {
    Packet(Packet),
    Closed,
    Malformed(String),
}

impl Reader {
    async fn next(&mut self, ws: &mut Ws) -> Read {
        loop {
            if !self.buffer.is_empty() {
                match Packet::read(&mut self.buffer, MAX_PACKET) {
                    Ok(packet) => return Read::Packet(packet),
                    Err(rumqttc::mqttbytes::Error::InsufficientBytes(_)) => {}
                    Err(e) => return Read::Malformed(e.to_string()),
                }
            }
            match ws.next().await {
                Some(Ok(Message::Binary(bytes))) => self.buffer.extend_from_slice(&bytes),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Ok(Message::Text(_))) => return Read::Malformed("text frame (MQTT is binary)".to_owned()),
                Some(Ok(Message::Close(_) | Message::Frame(_))) | None | Some(Err(_)) => return Read::Closed,
            }
        }
    }
}

async fn send(ws: &mut Ws, packet: Packet) -> bool {
    let mut out = BytesMut::new();
    if packet.write(&mut out, MAX_PACKET).is_err() {
        return false;
    }
    ws.send(Message::Binary(out.freeze())).await.is_ok()
}

async fn connack(ws: &mut Ws, code: ConnectReturnCode) {
    send(ws, Packet::ConnAck(ConnAck::new(code, false))).await;
    let _ = ws.close(None).await;
}

/// Serves one TCP connection until it ends, the broker stops, or its policy says so.
pub(super) async fn serve(core: Arc<IotCore>, stream: TcpStream, peer: SocketAddr, cancel: CancellationToken) {
    let host = core.host.clone();
    let Some((mut ws, upgrade)) = upgrade(stream).await else { return };
    let mut reader = Reader { buffer: BytesMut::new() };
    let connect = match tokio::time::timeout(CONNECT_WITHIN, reader.next(&mut ws)).await {
        Ok(Read::Packet(Packet::Connect(c))) => c,
        _ => {
            debug!(%peer, "no CONNECT: closed");
            let _ = ws.close(None).await;
            return;
        }
    };
    let connection_id = uuid::Uuid::new_v4().to_string();
    if connect.client_id.is_empty() || connect.client_id.starts_with('$') || connect.client_id.len() > 128 {
        info!(connection = %connection_id, "refused: client id empty, reserved or too long");
        return connack(&mut ws, ConnectReturnCode::BadClientId).await;
    }
    let (username, password) = match &connect.login {
        Some(l) => (Some(l.username.clone()), Some(l.password.clone().into_bytes())),
        None => (None, None),
    };
    let named = requested_name(upgrade.query.as_deref(), username.as_deref());
    let Some(authorizer) = named.as_deref().and_then(|n| core.authorizers.iter().find(|a| a.name == n)) else {
        info!(connection = %connection_id, requested = ?named, "refused: no custom authorizer of this name (name it with ?x-amz-customauthorizer-name=)");
        return connack(&mut ws, ConnectReturnCode::NotAuthorized).await;
    };
    if !authorizer.active {
        info!(connection = %connection_id, authorizer = %authorizer.name, "refused: the authorizer is inactive");
        return connack(&mut ws, ConnectReturnCode::NotAuthorized).await;
    }
    let attempt = ConnectAttempt {
        connection_id: connection_id.clone(),
        host,
        headers: upgrade.headers,
        query: upgrade.query,
        username,
        password,
        client_id: connect.client_id.clone(),
    };
    let policy = match authorize(&core.invoker, authorizer, &attempt).await {
        Ok(Authorization::Allowed(p)) => Arc::new(p),
        Ok(Authorization::Denied) => {
            info!(connection = %connection_id, "refused: the authorizer denied the credentials");
            return connack(&mut ws, ConnectReturnCode::NotAuthorized).await;
        }
        Err(e) => {
            info!(connection = %connection_id, error = %e, "refused: custom authorization failed");
            return connack(&mut ws, ConnectReturnCode::NotAuthorized).await;
        }
    };
    let prefix = core.broker.arn_prefix().to_owned();
    if !policy.allows("iot:Connect", &format!("{prefix}:client/{}", connect.client_id)) {
        info!(connection = %connection_id, principal_id = %policy.principal_id, "refused: the policy does not allow iot:Connect with this client id");
        return connack(&mut ws, ConnectReturnCode::NotAuthorized).await;
    }
    let mut session = core.broker.register(&connect.client_id, policy.clone());
    if !send(&mut ws, Packet::ConnAck(ConnAck::new(ConnectReturnCode::Success, false))).await {
        core.broker.unregister(session.id);
        return;
    }
    info!(connection = %connection_id, principal_id = %policy.principal_id, "connected");
    let ended = Connected { core: &core, ws: &mut ws, reader, session: session.id, policy, attempt, prefix }
        .run(&mut session.deliveries, &session.kicked, &cancel, connect.keep_alive)
        .await;
    core.broker.unregister(session.id);
    info!(connection = %connection_id, reason = ended, "disconnected");
    let _ = ws.close(None).await;
}

struct Connected<'a> {
    core: &'a IotCore,
    ws: &'a mut Ws,
    reader: Reader,
    session: u64,
    policy: Arc<ConnectionPolicy>,
    attempt: ConnectAttempt,
    prefix: String,
}

impl Connected<'_> {
    async fn run(
        mut self,
        deliveries: &mut tokio::sync::mpsc::UnboundedReceiver<super::broker::Delivery>,
        kicked: &CancellationToken,
        cancel: &CancellationToken,
        keep_alive: u16,
    ) -> &'static str {
        let started = Instant::now();
        let disconnect_at = started + self.policy.disconnect_after;
        let mut refresh_at = started + self.policy.refresh_after;
        // The server may close a connection silent for 1.5 keep-alive periods (MQTT 3.1.1 §3.1.2.10).
        let idle_limit = (keep_alive > 0).then(|| Duration::from_millis(u64::from(keep_alive) * 1_500));
        let far = Duration::from_secs(10 * 365 * 86_400);
        let mut last_heard = Instant::now();
        let mut next_pkid: u16 = 0;
        loop {
            let idle_at = last_heard + idle_limit.unwrap_or(far);
            tokio::select! {
                read = self.reader.next(self.ws) => {
                    last_heard = Instant::now();
                    match read {
                        Read::Packet(packet) => {
                            if let Some(reason) = self.handle(packet).await {
                                return reason;
                            }
                        }
                        Read::Closed => return "closed by the client",
                        Read::Malformed(detail) => {
                            debug!(%detail, "malformed MQTT packet");
                            return "malformed packet";
                        }
                    }
                }
                delivery = deliveries.recv() => {
                    let Some(d) = delivery else { return "broker stopped" };
                    let qos = if d.qos >= 1 { QoS::AtLeastOnce } else { QoS::AtMostOnce };
                    let mut publish = Publish::new(d.topic, qos, d.payload.to_vec());
                    if qos == QoS::AtLeastOnce {
                        next_pkid = next_pkid.checked_add(1).unwrap_or(1);
                        publish.pkid = next_pkid;
                    }
                    if !send(self.ws, Packet::Publish(publish)).await {
                        return "write failed";
                    }
                }
                () = tokio::time::sleep_until(idle_at) => return "keep-alive expired",
                () = tokio::time::sleep_until(disconnect_at) => return "disconnectAfterInSeconds reached",
                () = tokio::time::sleep_until(refresh_at) => {
                    match self.refresh().await {
                        Some(next) => refresh_at = Instant::now() + next,
                        None => return "the authorizer no longer allows the connection",
                    }
                }
                () = kicked.cancelled() => return "another connection took this client id",
                () = cancel.cancelled() => return "stack stopping",
            }
        }
    }

    /// Re-runs the authorizer (as IoT does every `refreshAfterInSeconds`); the new
    /// policy applies from now on. `None`: the connection must end.
    async fn refresh(&mut self) -> Option<Duration> {
        let authorizer = self.core.authorizers.iter().find(|a| {
            requested_name(self.attempt.query.as_deref(), self.attempt.username.as_deref()).as_deref()
                == Some(a.name.as_str())
        })?;
        match authorize(&self.core.invoker, authorizer, &self.attempt).await {
            Ok(Authorization::Allowed(p)) => {
                let policy = Arc::new(p);
                self.core.broker.set_policy(self.session, policy.clone());
                let next = policy.refresh_after;
                self.policy = policy;
                Some(next)
            }
            _ => None,
        }
    }

    /// One packet from the client; `Some(reason)` ends the connection.
    async fn handle(&mut self, packet: Packet) -> Option<&'static str> {
        match packet {
            Packet::Subscribe(subscribe) => {
                let mut codes = Vec::with_capacity(subscribe.filters.len());
                for filter in &subscribe.filters {
                    let resource = format!("{}:topicfilter/{}", self.prefix, filter.path);
                    if valid_filter(&filter.path) && self.policy.allows("iot:Subscribe", &resource) {
                        // IoT Core has no QoS 2: granted at most 1.
                        let qos = if filter.qos == QoS::AtMostOnce { 0 } else { 1 };
                        self.core.broker.subscribe(self.session, &filter.path, qos);
                        codes.push(SubscribeReasonCode::Success(if qos == 0 {
                            QoS::AtMostOnce
                        } else {
                            QoS::AtLeastOnce
                        }));
                    } else {
                        info!(principal_id = %self.policy.principal_id, "subscription refused by the policy");
                        codes.push(SubscribeReasonCode::Failure);
                    }
                }
                (!send(self.ws, Packet::SubAck(SubAck::new(subscribe.pkid, codes))).await).then_some("write failed")
            }
            Packet::Unsubscribe(unsubscribe) => {
                for filter in &unsubscribe.topics {
                    self.core.broker.unsubscribe(self.session, filter);
                }
                (!send(self.ws, Packet::UnsubAck(UnsubAck::new(unsubscribe.pkid))).await).then_some("write failed")
            }
            Packet::Publish(publish) => {
                let resource = format!("{}:topic/{}", self.prefix, publish.topic);
                if publish.qos == QoS::ExactlyOnce {
                    return Some("QoS 2 (IoT Core has none)");
                }
                if !valid_topic(&publish.topic) || !self.policy.allows("iot:Publish", &resource) {
                    return Some("publish refused by the policy");
                }
                let qos = u8::from(publish.qos == QoS::AtLeastOnce);
                self.core.broker.publish(&publish.topic, publish.payload.clone(), qos);
                if publish.qos == QoS::AtLeastOnce && !send(self.ws, Packet::PubAck(PubAck::new(publish.pkid))).await {
                    return Some("write failed");
                }
                None
            }
            Packet::PingReq => (!send(self.ws, Packet::PingResp).await).then_some("write failed"),
            Packet::Disconnect => Some("DISCONNECT"),
            Packet::PubAck(_) => None,
            Packet::Connect(_) => Some("a second CONNECT"),
            _ => Some("unexpected packet"),
        }
    }
}
