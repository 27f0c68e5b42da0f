//! Seed 004's real-time channel: subscribers on the local IoT Core, connected as
//! a browser would (MQTT over WebSocket, the API token as password).

use std::time::Duration;

use local_stack::iot::client::{connect, ClientError, Endpoint, Subscriber};

use crate::Driver;

/// How long a connect or subscribe may take on a loaded CI machine.
pub const HANDSHAKE: Duration = Duration::from_secs(10);

impl Driver {
    /// The local IoT Core's endpoint and the template's custom authorizer.
    pub fn iot_endpoint(&self) -> Endpoint {
        Endpoint {
            mqtt_url: self.stack().mqtt_url().expect("the local IoT Core runs with the functions"),
            authorizer: self.stack().iot_authorizers().first().expect("an IoT authorizer in the template").clone(),
        }
    }

    /// Connects as `user` (client id `{user}/{tab}`) with `token` as the password.
    pub async fn mqtt_connect(&self, user: &str, tab: &str, token: &str) -> Result<Subscriber, ClientError> {
        connect(&self.iot_endpoint(), &format!("{user}/{tab}"), user, token, HANDSHAKE).await
    }

    /// Connected as `user` and subscribed to their own topic `notifications-{user}`.
    pub async fn notifications_subscriber(&self, user: &str, roles: &[&str]) -> Subscriber {
        let token = self.token_with_roles(user, roles);
        let mut s = self.mqtt_connect(user, "tab-1", &token).await.expect("connect with a valid token");
        let granted = s.subscribe(&format!("notifications-{user}"), HANDSHAKE).await.expect("SUBACK");
        assert!(granted, "a user may subscribe to their own topic");
        s
    }
}
