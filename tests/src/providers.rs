//! Reading what the third-party fakes received, over their real API paths, and
//! setting their faults: what a test asserts about Zendesk and Notify.

use base64::Engine;
use local_stack::{LOCAL_NOTIFY_API_KEY, LOCAL_ZENDESK_EMAIL, LOCAL_ZENDESK_TOKEN};
use reports::clients::notify::ApiKey;
use serde_json::Value;

use crate::Driver;

impl Driver {
    fn zendesk_url(&self) -> String {
        self.stack().zendesk_url().expect("the Zendesk fake runs")
    }
    fn notify_url(&self) -> String {
        self.stack().notify_url().expect("the Notify fake runs")
    }

    /// Tickets in the Zendesk fake (all, or those with this external id).
    pub async fn zendesk_tickets(&self, external_id: Option<&str>) -> Vec<Value> {
        let auth = base64::engine::general_purpose::STANDARD
            .encode(format!("{LOCAL_ZENDESK_EMAIL}/token:{LOCAL_ZENDESK_TOKEN}"));
        let mut req = reqwest::Client::new()
            .get(format!("{}/api/v2/tickets.json", self.zendesk_url()))
            .header("Authorization", format!("Basic {auth}"));
        if let Some(id) = external_id {
            req = req.query(&[("external_id", id)]);
        }
        let body: Value = req.send().await.expect("GET tickets").json().await.expect("tickets JSON");
        body["tickets"].as_array().cloned().unwrap_or_default()
    }

    /// Emails in the Notify fake (all, or those with this reference).
    pub async fn notify_emails(&self, reference: Option<&str>) -> Vec<Value> {
        let key = ApiKey::parse(LOCAL_NOTIFY_API_KEY).expect("the local key is in Notify's format");
        let token = key.token(chrono::Utc::now()).expect("token");
        let mut req = reqwest::Client::new()
            .get(format!("{}/v2/notifications", self.notify_url()))
            .header("Authorization", format!("Bearer {token}"));
        if let Some(r) = reference {
            req = req.query(&[("reference", r)]);
        }
        let body: Value = req.send().await.expect("GET notifications").json().await.expect("notifications JSON");
        body["notifications"].as_array().cloned().unwrap_or_default()
    }

    /// `POST /__faults` on a fake (`"zendesk"` or `"notify"`).
    pub async fn provider_faults(&self, provider: &str, faults: Value) {
        let base = match provider {
            "zendesk" => self.zendesk_url(),
            "notify" => self.notify_url(),
            other => panic!("no fake called {other}"),
        };
        let resp = reqwest::Client::new().post(format!("{base}/__faults")).json(&faults).send().await.expect("faults");
        assert!(resp.status().is_success(), "faults refused: {}", resp.status());
    }
}
