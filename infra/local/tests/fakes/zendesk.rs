use base64::Engine as _;
use local_stack::{LOCAL_ZENDESK_EMAIL, LOCAL_ZENDESK_TOKEN};
use reqwest::{Client, RequestBuilder, StatusCode};
use serde_json::{json, Value};

fn basic(email: &str, token: &str) -> String {
    let raw = format!("{email}/token:{token}");
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(raw))
}

fn authed(request: RequestBuilder) -> RequestBuilder {
    request.header("authorization", basic(LOCAL_ZENDESK_EMAIL, LOCAL_ZENDESK_TOKEN))
}

fn ticket(body: &str) -> Value {
    json!({"ticket": {"subject": "Report", "comment": {"body": body}, "external_id": "report-1",
        "requester": {"email": "citizen@example.com", "name": "A Citizen"}, "tags": ["report"]}})
}

async fn create(client: &Client, url: &str, body: &Value, key: Option<&str>) -> reqwest::Response {
    let mut request = authed(client.post(format!("{url}/api/v2/tickets.json"))).json(body);
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    request.send().await.expect("request")
}

async fn all_tickets(client: &Client, url: &str) -> Value {
    let response = authed(client.get(format!("{url}/api/v2/tickets.json"))).send().await.expect("list");
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("json")
}

#[tokio::test]
async fn creates_tickets_and_reads_them_back() {
    let fake = super::zendesk().await;
    let client = kit::http::client().expect("http client");
    let response = create(&client, &fake.url(), &ticket("It broke"), None).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert!(response.headers().get("x-idempotency-lookup").is_none());
    let location = response.headers()["location"].to_str().expect("location").to_owned();
    let created: Value = response.json().await.expect("json");
    let t = &created["ticket"];
    assert_eq!(t["id"], 1000);
    assert_eq!(t["status"], "new");
    assert_eq!(t["description"], "It broke");
    assert_eq!(t["external_id"], "report-1");
    assert_eq!(t["tags"], json!(["report"]));
    assert!(t["requester_id"].is_u64());
    assert_eq!(t["url"], location.as_str());
    assert!(location.ends_with("/api/v2/tickets/1000.json"), "{location}");

    let second = create(&client, &fake.url(), &json!({"ticket": {"comment": {"body": "Another"}}}), None).await;
    assert_eq!(second.json::<Value>().await.expect("json")["ticket"]["id"], 1001);

    let one: Value = authed(client.get(location)).send().await.expect("get").json().await.expect("json");
    assert_eq!(one["ticket"]["description"], "It broke");
    let listed = all_tickets(&client, &fake.url()).await;
    assert_eq!(listed["count"], 2);
    assert_eq!(listed["next_page"], Value::Null);
    let filtered: Value = authed(client.get(format!("{}/api/v2/tickets.json?external_id=report-1", fake.url())))
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    assert_eq!(filtered["count"], 1);
    assert_eq!(filtered["tickets"][0]["id"], 1000);

    let missing = authed(client.get(format!("{}/api/v2/tickets/99.json", fake.url()))).send().await.expect("get");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        missing.json::<Value>().await.expect("json"),
        json!({"error": "RecordNotFound", "description": "Not found"})
    );
}

#[tokio::test]
async fn refuses_wrong_credentials() {
    let fake = super::zendesk().await;
    let client = kit::http::client().expect("http client");
    let url = format!("{}/api/v2/tickets.json", fake.url());
    for auth in [
        None,
        Some(basic(LOCAL_ZENDESK_EMAIL, "wrong-token")),
        Some(basic("", LOCAL_ZENDESK_TOKEN)),
        Some(format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{LOCAL_ZENDESK_EMAIL}:{LOCAL_ZENDESK_TOKEN}"))
        )),
        Some("Bearer abc".to_owned()),
    ] {
        let mut request = client.post(&url).json(&ticket("x"));
        if let Some(auth) = &auth {
            request = request.header("authorization", auth);
        }
        let response = request.send().await.expect("request");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{auth:?}");
        assert_eq!(response.json::<Value>().await.expect("json"), json!({"error": "Couldn't authenticate you"}));
    }
    let list = client.get(&url).send().await.expect("list");
    assert_eq!(list.status(), StatusCode::UNAUTHORIZED);
    // Any agent email works with the right token.
    let other =
        client.post(&url).header("authorization", basic("someone@else", LOCAL_ZENDESK_TOKEN)).json(&ticket("x"));
    assert_eq!(other.send().await.expect("request").status(), StatusCode::CREATED);
}

#[tokio::test]
async fn refuses_invalid_tickets_and_bad_json() {
    let fake = super::zendesk().await;
    let client = kit::http::client().expect("http client");
    for body in [json!({}), json!({"ticket": {"subject": "no comment"}}), json!({"ticket": {"comment": {"body": ""}}})]
    {
        let response = create(&client, &fake.url(), &body, None).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let error: Value = response.json().await.expect("json");
        assert_eq!(error["error"], "RecordInvalid");
        assert_eq!(error["description"], "Record validation errors");
        assert!(error["details"].is_object());
    }
    let response = authed(client.post(format!("{}/api/v2/tickets.json", fake.url())))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(all_tickets(&client, &fake.url()).await["count"], 0);
}

#[tokio::test]
async fn idempotency_key_replays_the_first_answer_and_refuses_another_body() {
    let fake = super::zendesk().await;
    let client = kit::http::client().expect("http client");
    let first = create(&client, &fake.url(), &ticket("Once"), Some("key-1")).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    assert_eq!(first.headers()["x-idempotency-lookup"], "miss");
    let first: Value = first.json().await.expect("json");

    let again = create(&client, &fake.url(), &ticket("Once"), Some("key-1")).await;
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.headers()["x-idempotency-lookup"], "hit");
    assert_eq!(again.json::<Value>().await.expect("json"), first);

    let other = create(&client, &fake.url(), &ticket("Different"), Some("key-1")).await;
    assert_eq!(other.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        other.json::<Value>().await.expect("json"),
        json!({"error": "IdempotentRequestError", "description": "Request parameters do not match the original request"})
    );

    // Same body, key order changed: the same request (compared as JSON).
    let reordered = json!({"ticket": {"tags": ["report"], "external_id": "report-1", "comment": {"body": "Once"},
        "requester": {"name": "A Citizen", "email": "citizen@example.com"}, "subject": "Report"}});
    let hit = create(&client, &fake.url(), &reordered, Some("key-1")).await;
    assert_eq!(hit.headers()["x-idempotency-lookup"], "hit");

    let new_key = create(&client, &fake.url(), &ticket("Once"), Some("key-2")).await;
    assert_eq!(new_key.headers()["x-idempotency-lookup"], "miss");
    assert_eq!(all_tickets(&client, &fake.url()).await["count"], 2);
}

#[tokio::test]
async fn concurrent_requests_with_one_key_create_one_ticket() {
    let fake = super::zendesk().await;
    let client = kit::http::client().expect("http client");
    let url = fake.url();
    let requests = (0..16).map(|_| {
        let (client, url) = (client.clone(), url.clone());
        tokio::spawn(async move {
            let response = create(&client, &url, &ticket("Race"), Some("same-key")).await;
            assert_eq!(response.status(), StatusCode::CREATED);
            let lookup = response.headers()["x-idempotency-lookup"].to_str().expect("header").to_owned();
            (lookup, response.json::<Value>().await.expect("json")["ticket"]["id"].clone())
        })
    });
    let mut results = Vec::new();
    for r in requests.collect::<Vec<_>>() {
        results.push(r.await.expect("task"));
    }
    assert_eq!(results.iter().filter(|(lookup, _)| lookup == "miss").count(), 1);
    assert!(results.iter().all(|(_, id)| *id == json!(1000)));
    assert_eq!(all_tickets(&client, &fake.url()).await["count"], 1);
}
