//! Calls a configured webhook per approved action: `POST {url}` with
//! `{request_id, issue_id, action, parameters}` and `Idempotency-Key: {request_id}`
//! (so the receiver can tell a repeat); 2xx = EXECUTED, the body as the output.

use std::time::Duration;

use async_trait::async_trait;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::{Execution, Executor};
use crate::api::Action;

pub struct WebhookExecutor {
    http: reqwest::Client,
    url: String,
}

impl WebhookExecutor {
    pub fn new(url: String, timeout: Duration) -> Result<Self, String> {
        let http = kit::http::client_builder().timeout(timeout).build().map_err(|e| e.to_string())?;
        Ok(Self { http, url })
    }
}

#[async_trait]
impl Executor for WebhookExecutor {
    async fn execute(&self, action: &Action, stop: CancellationToken) -> Execution {
        let body = json!({
            "request_id": action.request_id,
            "issue_id": action.issue_id,
            "action": action.action,
            "parameters": action.parameters,
        });
        let call = self.http.post(&self.url).header("idempotency-key", &action.request_id).json(&body).send();
        tokio::select! {
            result = call => match result {
                Ok(response) => {
                    let status = response.status();
                    let text = response.text().await.unwrap_or_default();
                    Execution::new(status.is_success(), format!("HTTP {}\n{text}", status.as_u16()))
                }
                Err(e) if e.is_timeout() => Execution::new(false, "the webhook timed out; its outcome is unknown"),
                Err(e) => Execution::new(false, format!("the webhook could not be called: {e}")),
            },
            () = stop.cancelled() => Execution::new(false, "stopped: the processor shut down before the webhook answered"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A one-shot HTTP server answering `status`; returns its URL and what it received.
    async fn server(status: u16) -> (String, tokio::task::JoinHandle<String>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 8192];
            let mut received = String::new();
            while !received.contains("\r\n\r\n") || !received.ends_with('}') {
                let n = socket.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                received.push_str(&String::from_utf8_lossy(&buf[..n]));
            }
            let answer = format!("HTTP/1.1 {status} X\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
            socket.write_all(answer.as_bytes()).await.unwrap();
            received
        });
        (url, task)
    }

    #[tokio::test]
    async fn the_action_is_posted_with_an_idempotency_key() {
        let (url, received) = server(200).await;
        let action = Action {
            request_id: "r1".into(),
            issue_id: "I-1".into(),
            action: "restart".into(),
            parameters: json!({"n": 1}),
        };
        let out =
            WebhookExecutor::new(url, Duration::from_secs(5)).unwrap().execute(&action, CancellationToken::new()).await;
        assert!(out.succeeded, "{out:?}");
        let request = received.await.unwrap().to_ascii_lowercase();
        assert!(request.starts_with("post /hook"), "{request}");
        assert!(request.contains("idempotency-key: r1"), "{request}");
        assert!(request.contains(r#""parameters":{"n":1}"#), "{request}");
    }

    #[tokio::test]
    async fn a_non_2xx_answer_is_a_failure() {
        let (url, _received) = server(500).await;
        let action =
            Action { request_id: "r1".into(), issue_id: "I".into(), action: "a".into(), parameters: json!({}) };
        let out =
            WebhookExecutor::new(url, Duration::from_secs(5)).unwrap().execute(&action, CancellationToken::new()).await;
        assert!(!out.succeeded);
        assert!(out.output.starts_with("HTTP 500"), "{}", out.output);
    }
}
