use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use local_stack::{LOCAL_NOTIFY_API_KEY, LOCAL_NOTIFY_SECRET, LOCAL_NOTIFY_SERVICE_ID, LOCAL_NOTIFY_TEMPLATE_ID};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

/// A token as the Notify client libraries make one from an API key.
pub fn token_from_key(api_key: &str, iat_offset_secs: i64) -> String {
    let secret = &api_key[api_key.len() - 36..];
    let service_id = &api_key[api_key.len() - 73..api_key.len() - 37];
    token(json!({"iss": service_id, "iat": chrono::Utc::now().timestamp() + iat_offset_secs}), secret)
}

fn token(claims: Value, secret: &str) -> String {
    encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(secret.as_bytes())).expect("token")
}

pub fn bearer() -> String {
    format!("Bearer {}", token_from_key(LOCAL_NOTIFY_API_KEY, 0))
}

fn email(reference: &str, ticket_id: &str) -> Value {
    json!({"email_address": "citizen@example.com", "template_id": LOCAL_NOTIFY_TEMPLATE_ID,
        "personalisation": {"ticket_id": ticket_id}, "reference": reference})
}

pub async fn send(client: &Client, url: &str, auth: &str, body: &Value) -> reqwest::Response {
    client
        .post(format!("{url}/v2/notifications/email"))
        .header("authorization", auth)
        .json(body)
        .send()
        .await
        .expect("request")
}

pub async fn list(client: &Client, url: &str, query: &str) -> Value {
    let response = client
        .get(format!("{url}/v2/notifications{query}"))
        .header("authorization", bearer())
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("json")
}

async fn errors(response: reqwest::Response, status: StatusCode) -> Vec<(String, String)> {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["status_code"], status.as_u16());
    body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            (e["error"].as_str().unwrap_or_default().to_owned(), e["message"].as_str().unwrap_or_default().to_owned())
        })
        .collect()
}

#[tokio::test]
async fn sends_an_email_and_reads_it_back() {
    let fake = super::notify().await;
    let client = kit::http::client().expect("http client");
    let response = send(&client, &fake.url(), &bearer(), &email("ref-1", "1000")).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let sent: Value = response.json().await.expect("json");
    let id = sent["id"].as_str().expect("id").to_owned();
    assert!(uuid::Uuid::parse_str(&id).is_ok());
    assert_eq!(sent["reference"], "ref-1");
    assert_eq!(sent["content"]["subject"], "We have received your report");
    assert_eq!(sent["content"]["body"], "Your reference is 1000.");
    assert_eq!(sent["content"]["from_email"], "notify@local");
    assert_eq!(sent["template"]["id"], LOCAL_NOTIFY_TEMPLATE_ID);
    assert_eq!(sent["template"]["version"], 1);
    assert_eq!(sent["scheduled_for"], Value::Null);
    assert!(sent["uri"].as_str().expect("uri").ends_with(&format!("/v2/notifications/{id}")));

    let one = client
        .get(format!("{}/v2/notifications/{id}", fake.url()))
        .header("authorization", bearer())
        .send()
        .await
        .expect("get");
    assert_eq!(one.status(), StatusCode::OK);
    let one: Value = one.json().await.expect("json");
    assert_eq!(one["email_address"], "citizen@example.com");
    assert_eq!(one["type"], "email");
    assert_eq!(one["status"], "delivered");
    assert_eq!(one["body"], "Your reference is 1000.");

    let missing = client
        .get(format!("{}/v2/notifications/{}", fake.url(), uuid::Uuid::new_v4()))
        .header("authorization", bearer())
        .send()
        .await
        .expect("get");
    assert_eq!(errors(missing, StatusCode::NOT_FOUND).await, [("NoResultFound".into(), "No result found".into())]);
}

#[tokio::test]
async fn lists_newest_first_and_filters_like_notify() {
    let fake = super::notify().await;
    let client = kit::http::client().expect("http client");
    for (reference, ticket) in [("a", "1"), ("b", "2"), ("a", "3")] {
        let response = send(&client, &fake.url(), &bearer(), &email(reference, ticket)).await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    let all = list(&client, &fake.url(), "").await;
    let bodies: Vec<&str> =
        all["notifications"].as_array().expect("list").iter().filter_map(|n| n["body"].as_str()).collect();
    assert_eq!(bodies, ["Your reference is 3.", "Your reference is 2.", "Your reference is 1."]);
    assert!(all["links"]["current"].as_str().expect("link").ends_with("/v2/notifications"));

    let a = list(&client, &fake.url(), "?reference=a").await;
    assert_eq!(a["notifications"].as_array().expect("list").len(), 2);
    assert_eq!(list(&client, &fake.url(), "?reference=zzz").await["notifications"], json!([]));
    let delivered = list(&client, &fake.url(), "?template_type=email&status=delivered").await;
    assert_eq!(delivered["notifications"].as_array().expect("list").len(), 3);
    assert_eq!(list(&client, &fake.url(), "?template_type=sms").await["notifications"], json!([]));
    assert_eq!(list(&client, &fake.url(), "?status=failed").await["notifications"], json!([]));

    let bad = client
        .get(format!("{}/v2/notifications?status=lost", fake.url()))
        .header("authorization", bearer())
        .send()
        .await
        .expect("get");
    let errors = errors(bad, StatusCode::BAD_REQUEST).await;
    assert_eq!(errors[0].0, "ValidationError");
    assert!(errors[0].1.starts_with("status lost is not one of ["), "{}", errors[0].1);
}

#[tokio::test]
async fn refuses_skewed_clocks_wrong_issuers_and_signatures() {
    let fake = super::notify().await;
    let client = kit::http::client().expect("http client");
    let body = email("r", "1");
    let refused = |auth: String| {
        let (client, url, body) = (client.clone(), fake.url(), body.clone());
        async move { errors(send(&client, &url, &auth, &body).await, StatusCode::FORBIDDEN).await }
    };
    let clock = "Error: Your system clock must be accurate to within 30 seconds";
    for offset in [-31, 31, -3600] {
        let got = refused(format!("Bearer {}", token_from_key(LOCAL_NOTIFY_API_KEY, offset))).await;
        assert_eq!(got, [("AuthError".into(), clock.into())], "offset {offset}");
    }
    for offset in [-29, 29] {
        let auth = format!("Bearer {}", token_from_key(LOCAL_NOTIFY_API_KEY, offset));
        let ok = send(&client, &fake.url(), &auth, &body).await;
        assert_eq!(ok.status(), StatusCode::CREATED, "offset {offset}");
    }
    let now = chrono::Utc::now().timestamp();
    let other_service = token(json!({"iss": uuid::Uuid::new_v4().to_string(), "iat": now}), LOCAL_NOTIFY_SECRET);
    assert_eq!(
        refused(format!("Bearer {other_service}")).await,
        [("AuthError".into(), "Invalid token: service not found".into())]
    );
    let no_iss = token(json!({"iat": now}), LOCAL_NOTIFY_SECRET);
    assert_eq!(
        refused(format!("Bearer {no_iss}")).await,
        [("AuthError".into(), "Invalid token: iss field not provided".into())]
    );
    let forged = token(json!({"iss": LOCAL_NOTIFY_SERVICE_ID, "iat": now}), "some-other-secret");
    assert_eq!(
        refused(format!("Bearer {forged}")).await,
        [("AuthError".into(), "Invalid token: signature, api token not found".into())]
    );
    // No token at all is 401, as on Notify.
    let anonymous =
        client.post(format!("{}/v2/notifications/email", fake.url())).json(&body).send().await.expect("post");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(list(&client, &fake.url(), "").await["notifications"].as_array().expect("list").len(), 2);
}

#[tokio::test]
async fn refuses_bad_addresses_templates_and_missing_personalisation() {
    let fake = super::notify().await;
    let client = kit::http::client().expect("http client");
    let mut bad_email = email("r", "1");
    bad_email["email_address"] = json!("not-an-address");
    assert_eq!(
        errors(send(&client, &fake.url(), &bearer(), &bad_email).await, StatusCode::BAD_REQUEST).await,
        [("ValidationError".into(), "email_address Not a valid email address".into())]
    );
    let mut bad_template = email("r", "1");
    bad_template["template_id"] = json!("not-a-uuid");
    assert_eq!(
        errors(send(&client, &fake.url(), &bearer(), &bad_template).await, StatusCode::BAD_REQUEST).await,
        [("ValidationError".into(), "template_id is not a valid UUID".into())]
    );
    let mut unknown = email("r", "1");
    unknown["template_id"] = json!(uuid::Uuid::new_v4().to_string());
    assert_eq!(
        errors(send(&client, &fake.url(), &bearer(), &unknown).await, StatusCode::BAD_REQUEST).await,
        [("BadRequestError".into(), "Template not found".into())]
    );
    let mut no_ticket = email("r", "1");
    no_ticket["personalisation"] = json!({"name": "x"});
    assert_eq!(
        errors(send(&client, &fake.url(), &bearer(), &no_ticket).await, StatusCode::BAD_REQUEST).await,
        [("BadRequestError".into(), "Missing personalisation: ticket_id".into())]
    );
    let bad_json = client
        .post(format!("{}/v2/notifications/email", fake.url()))
        .header("authorization", bearer())
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .expect("post");
    assert_eq!(bad_json.status(), StatusCode::BAD_REQUEST);
    assert_eq!(list(&client, &fake.url(), "").await["notifications"], json!([]));
}
