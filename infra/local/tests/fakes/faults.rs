use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

use super::notify::{bearer, list, send};

async fn set_faults(client: &Client, url: &str, config: Value) -> reqwest::Response {
    client.post(format!("{url}/__faults")).json(&config).send().await.expect("faults")
}

fn email(reference: &str) -> Value {
    json!({"email_address": "a@example.com", "template_id": local_stack::LOCAL_NOTIFY_TEMPLATE_ID,
        "personalisation": {"ticket_id": "1"}, "reference": reference})
}

#[tokio::test]
async fn rate_one_fails_every_request_and_rate_zero_none() {
    let fake = super::notify().await;
    let client = kit::http::client().expect("http client");
    let set = set_faults(&client, &fake.url(), json!({"error_rate": 1, "kinds": ["429"], "retry_after_secs": 7})).await;
    assert_eq!(set.status(), StatusCode::OK);
    for _ in 0..5 {
        let response = send(&client, &fake.url(), &bearer(), &email("r")).await;
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()["retry-after"], "7");
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["errors"][0]["error"], "RateLimitError");
    }
    // /__faults itself is never faulted; the config reads back with defaults.
    let shown: Value =
        client.get(format!("{}/__faults", fake.url())).send().await.expect("get").json().await.expect("json");
    assert_eq!(shown["error_rate"], 1.0);
    assert_eq!(shown["slow_ms"], 3000);

    assert_eq!(set_faults(&client, &fake.url(), json!({"error_rate": 0})).await.status(), StatusCode::OK);
    for _ in 0..5 {
        assert_eq!(send(&client, &fake.url(), &bearer(), &email("r")).await.status(), StatusCode::CREATED);
    }
    assert_eq!(list(&client, &fake.url(), "").await["notifications"].as_array().expect("list").len(), 5);
}

#[tokio::test]
async fn forced_status_gives_that_status_with_the_services_error_body() {
    let fake = super::zendesk().await;
    let client = kit::http::client().expect("http client");
    set_faults(&client, &fake.url(), json!({"error_rate": 1, "status": 422})).await;
    let response = client
        .post(format!("{}/api/v2/tickets.json", fake.url()))
        .json(&json!({"ticket": {"comment": {"body": "x"}}}))
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(response.json::<Value>().await.expect("json")["error"], "RecordInvalid");

    let reset = client.delete(format!("{}/__faults", fake.url())).send().await.expect("delete");
    assert_eq!(reset.status(), StatusCode::NO_CONTENT);
    let shown: Value =
        client.get(format!("{}/__faults", fake.url())).send().await.expect("get").json().await.expect("json");
    assert_eq!(shown["error_rate"], 0.0);
}

#[tokio::test]
async fn lost_responses_still_carry_out_the_request() {
    let fake = super::notify().await;
    let client = kit::http::client().expect("http client");
    set_faults(&client, &fake.url(), json!({"error_rate": 1, "lose_response": true})).await;
    let response = send(&client, &fake.url(), &bearer(), &email("lost")).await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    // The read is faulted too; stop faults, then look.
    set_faults(&client, &fake.url(), json!({"error_rate": 0})).await;
    let sent = list(&client, &fake.url(), "?reference=lost").await;
    assert_eq!(sent["notifications"].as_array().expect("list").len(), 1);
}

#[tokio::test]
async fn slow_answers_arrive_late_but_succeed() {
    let fake = super::notify().await;
    let client = kit::http::client().expect("http client");
    set_faults(&client, &fake.url(), json!({"error_rate": 1, "kinds": ["slow"], "slow_ms": 300})).await;
    let started = std::time::Instant::now();
    assert_eq!(send(&client, &fake.url(), &bearer(), &email("slow")).await.status(), StatusCode::CREATED);
    assert!(started.elapsed() >= std::time::Duration::from_millis(300));
}

#[tokio::test]
async fn invalid_fault_configurations_are_refused() {
    let fake = super::zendesk().await;
    let client = kit::http::client().expect("http client");
    for config in [
        json!({"error_rate": 1.5}),
        json!({"error_rate": -1}),
        json!({"kinds": ["500"]}),
        json!({"error_rate": 1, "kinds": ["boom"]}),
    ] {
        let response = set_faults(&client, &fake.url(), config.clone()).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{config}");
    }
    let bad_json = client.post(format!("{}/__faults", fake.url())).body("nope").send().await.expect("post");
    assert_eq!(bad_json.status(), StatusCode::BAD_REQUEST);
}
