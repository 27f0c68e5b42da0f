//! The broker's memory: connected sessions by client id, their subscriptions and
//! policies, and fan-out of a published message to every session whose filter
//! matches and whose policy allows `iot:Receive` on the topic. Sessions are
//! clean (IoT's persistent sessions are not emulated): nothing is kept for a
//! client that is not connected, and nothing is retained.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::policy::ConnectionPolicy;
use super::topics::matches;

/// One message for one session.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub topic: String,
    pub payload: Bytes,
    /// The lower of the publish's and the subscription's QoS (0 or 1).
    pub qos: u8,
}

struct Session {
    client_id: String,
    deliveries: mpsc::UnboundedSender<Delivery>,
    policy: Arc<ConnectionPolicy>,
    /// Filter → granted QoS.
    subscriptions: BTreeMap<String, u8>,
    kicked: CancellationToken,
}

#[derive(Default)]
struct State {
    sessions: HashMap<u64, Session>,
    by_client: HashMap<String, u64>,
}

/// A session as its connection holds it.
pub struct Registered {
    pub id: u64,
    pub deliveries: mpsc::UnboundedReceiver<Delivery>,
    /// Fires when another connection takes the same client id (IoT disconnects the older one).
    pub kicked: CancellationToken,
}

pub struct Broker {
    /// `arn:{partition}:iot:{region}:{account}`: what policies name.
    arn_prefix: String,
    state: Mutex<State>,
    next_id: AtomicU64,
}

impl std::fmt::Debug for Broker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Broker").field("arn_prefix", &self.arn_prefix).finish_non_exhaustive()
    }
}

impl Broker {
    pub fn new(arn_prefix: impl Into<String>) -> Self {
        Self { arn_prefix: arn_prefix.into(), state: Mutex::default(), next_id: AtomicU64::new(1) }
    }

    pub fn arn_prefix(&self) -> &str {
        &self.arn_prefix
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves maps that are still consistent.
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn register(&self, client_id: &str, policy: Arc<ConnectionPolicy>) -> Registered {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::unbounded_channel();
        let kicked = CancellationToken::new();
        let mut state = self.state();
        if let Some(old) = state.by_client.insert(client_id.to_owned(), id) {
            if let Some(old) = state.sessions.remove(&old) {
                old.kicked.cancel();
            }
        }
        let session = Session {
            client_id: client_id.to_owned(),
            deliveries: tx,
            policy,
            subscriptions: BTreeMap::new(),
            kicked: kicked.clone(),
        };
        state.sessions.insert(id, session);
        Registered { id, deliveries: rx, kicked }
    }

    pub fn unregister(&self, id: u64) {
        let mut state = self.state();
        if let Some(session) = state.sessions.remove(&id) {
            if state.by_client.get(&session.client_id) == Some(&id) {
                state.by_client.remove(&session.client_id);
            }
        }
    }

    pub fn set_policy(&self, id: u64, policy: Arc<ConnectionPolicy>) {
        if let Some(s) = self.state().sessions.get_mut(&id) {
            s.policy = policy;
        }
    }

    pub fn subscribe(&self, id: u64, filter: &str, qos: u8) {
        if let Some(s) = self.state().sessions.get_mut(&id) {
            s.subscriptions.insert(filter.to_owned(), qos);
        }
    }

    pub fn unsubscribe(&self, id: u64, filter: &str) {
        if let Some(s) = self.state().sessions.get_mut(&id) {
            s.subscriptions.remove(filter);
        }
    }

    /// Hands the message to every session subscribed to `topic` whose policy
    /// allows `iot:Receive` on it (once per session, at the highest granted QoS).
    /// Returns how many sessions got it.
    pub fn publish(&self, topic: &str, payload: Bytes, qos: u8) -> usize {
        let resource = format!("{}:topic/{topic}", self.arn_prefix);
        let state = self.state();
        let mut delivered = 0;
        for session in state.sessions.values() {
            let granted = session.subscriptions.iter().filter(|(f, _)| matches(f, topic)).map(|(_, q)| *q).max();
            let Some(granted) = granted else { continue };
            if !session.policy.allows("iot:Receive", &resource) {
                continue;
            }
            let delivery = Delivery { topic: topic.to_owned(), payload: payload.clone(), qos: qos.min(granted) };
            if session.deliveries.send(delivery).is_ok() {
                delivered += 1;
            }
        }
        delivered
    }

    /// Connected client ids (for the stack's summary and tests).
    pub fn clients(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.state().by_client.keys().cloned().collect();
        ids.sort();
        ids
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::iot::policy::{read_response, Authorization};

    const P: &str = "arn:aws:iot:eu-west-2:123456789012";

    fn policy_for(user: &str) -> Arc<ConnectionPolicy> {
        let answer = json!({
            "isAuthenticated": true, "principalId": "p", "disconnectAfterInSeconds": 300, "refreshAfterInSeconds": 300,
            "policyDocuments": [{"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "iot:Receive", "Resource": format!("{P}:topic/notifications-{user}")}]}],
        });
        match read_response(&answer).unwrap() {
            Authorization::Allowed(p) => Arc::new(p),
            Authorization::Denied => panic!("denied"),
        }
    }

    #[test]
    fn a_message_reaches_subscribers_whose_policy_lets_them_receive_it() {
        let broker = Broker::new(P);
        let mut alice = broker.register("alice/1", policy_for("alice"));
        let mut bob = broker.register("bob/1", policy_for("bob"));
        broker.subscribe(alice.id, "notifications-alice", 1);
        // Even subscribed (were it granted), bob may not receive alice's topic.
        broker.subscribe(bob.id, "#", 1);
        assert_eq!(broker.publish("notifications-alice", Bytes::from_static(b"hi"), 1), 1);
        assert_eq!(alice.deliveries.try_recv().unwrap().payload, Bytes::from_static(b"hi"));
        assert!(bob.deliveries.try_recv().is_err());
        broker.unsubscribe(alice.id, "notifications-alice");
        assert_eq!(broker.publish("notifications-alice", Bytes::from_static(b"again"), 1), 0);
    }

    #[test]
    fn a_second_connection_with_the_same_client_id_ends_the_first() {
        let broker = Broker::new(P);
        let first = broker.register("alice/1", policy_for("alice"));
        let second = broker.register("alice/1", policy_for("alice"));
        assert!(first.kicked.is_cancelled() && !second.kicked.is_cancelled());
        broker.unregister(first.id);
        assert_eq!(broker.clients(), vec!["alice/1".to_owned()], "the newer one stays");
        broker.unregister(second.id);
        assert!(broker.clients().is_empty());
    }
}
