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
        zendesk_tickets_at(&self.zendesk_url(), external_id).await
    }

    /// Emails in the Notify fake (all, or those with this reference).
    pub async fn notify_emails(&self, reference: Option<&str>) -> Vec<Value> {
        notify_emails_at(&self.notify_url(), reference).await
    }

    /// `POST /__faults` on a fake (`"zendesk"` or `"notify"`).
    pub async fn provider_faults(&self, provider: &str, faults: Value) {
        let base = match provider {
            "zendesk" => self.zendesk_url(),
            "notify" => self.notify_url(),
            other => panic!("no fake called {other}"),
        };
        set_faults_at(&base, faults).await;
    }
}

/// Tickets in a Zendesk fake at `base` (all, or those with this external id).
pub async fn zendesk_tickets_at(base: &str, external_id: Option<&str>) -> Vec<Value> {
    let auth =
        base64::engine::general_purpose::STANDARD.encode(format!("{LOCAL_ZENDESK_EMAIL}/token:{LOCAL_ZENDESK_TOKEN}"));
    let mut req = kit::http::client()
        .expect("http client")
        .get(format!("{base}/api/v2/tickets.json"))
        .header("Authorization", format!("Basic {auth}"));
    if let Some(id) = external_id {
        req = req.query(&[("external_id", id)]);
    }
    let body: Value = req.send().await.expect("GET tickets").json().await.expect("tickets JSON");
    body["tickets"].as_array().cloned().unwrap_or_default()
}

/// Emails in a Notify fake at `base` (all, or those with this reference), every
/// page (Notify pages by 250, continuing with `older_than`).
pub async fn notify_emails_at(base: &str, reference: Option<&str>) -> Vec<Value> {
    let key = ApiKey::parse(LOCAL_NOTIFY_API_KEY).expect("the local key is in Notify's format");
    let mut out: Vec<Value> = Vec::new();
    loop {
        let token = key.token(chrono::Utc::now()).expect("token");
        let mut req = kit::http::client()
            .expect("http client")
            .get(format!("{base}/v2/notifications"))
            .header("Authorization", format!("Bearer {token}"));
        if let Some(r) = reference {
            req = req.query(&[("reference", r)]);
        }
        if let Some(last) = out.last().and_then(|n| n["id"].as_str()) {
            req = req.query(&[("older_than", last)]);
        }
        let body: Value = req.send().await.expect("GET notifications").json().await.expect("notifications JSON");
        let page = body["notifications"].as_array().cloned().unwrap_or_default();
        let more = body["links"].get("next").is_some_and(|n| !n.is_null()) && !page.is_empty();
        out.extend(page);
        if !more {
            return out;
        }
    }
}

/// Every API request a fake at `base` answered, oldest first (`GET /__requests`).
pub async fn answered_at(base: &str) -> Vec<local_stack::fakes::faults::Answered> {
    kit::http::client()
        .expect("http client")
        .get(format!("{base}/__requests"))
        .send()
        .await
        .expect("GET /__requests")
        .json()
        .await
        .expect("requests JSON")
}

/// `POST /__faults` on a fake at `base`.
pub async fn set_faults_at(base: &str, faults: Value) {
    let resp = kit::http::client()
        .expect("http client")
        .post(format!("{base}/__faults"))
        .json(&faults)
        .send()
        .await
        .expect("faults");
    assert!(resp.status().is_success(), "faults refused: {}", resp.status());
}
