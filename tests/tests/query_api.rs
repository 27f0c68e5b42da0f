//! The query API through the local HTTP API (JWT checked as the authorizer would).

use std::time::Duration;

use integration_tests::{eventually, Driver};
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_authorisation_matrix_holds() {
    let d = Driver::start().await;
    let owner = d.unique_user();
    let other = d.unique_user();
    d.send_logins(&[
        json!({"user_id": owner, "service_id": "s", "service_name": "S", "timestamp": "2024-01-01T00:00:00Z"}),
    ])
    .await;
    d.wait_drained().await;
    let path = format!("/users/{owner}/services");

    let (status, body) = d.get_json(&path, &owner).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["services"].as_array().unwrap().len(), 1);

    assert_eq!(d.get_with_header(&path, None).await, 401, "no token");
    assert_eq!(d.get_with_header(&path, Some("Bearer not.a.jwt".into())).await, 401, "garbage token");
    assert_eq!(
        d.get_with_header(&path, Some(format!("Bearer {}", d.forged_token(&owner)))).await,
        401,
        "wrong signature"
    );
    assert_eq!(d.get_with_header(&path, Some(format!("Bearer {}", d.expired_token(&owner)))).await, 401, "expired");
    assert_eq!(d.get_with_header(&path, Some(format!("Bearer {}", d.token(&other)))).await, 403, "another user");
    assert_eq!(
        d.get_with_header(&format!("/users/{owner}/activity"), Some(format!("Bearer {}", d.token(&other)))).await,
        403
    );

    let (status, body) = d.get_json(&format!("/users/{other}/services"), &other).await;
    assert_eq!((status, body["services"].clone()), (200, json!([])), "unknown user: empty list");
    assert_eq!(d.get_with_header("/healthz", None).await, 200, "health needs no token");
    let logs = d.function_logs("query-api");
    assert!(logs.iter().any(|l| l.contains("\"_aws\"") && l.contains("ColdStart")), "query-api emits EMF metrics");
    assert!(!logs.iter().any(|l| l.contains("eyJ")), "no token is ever logged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activity_pages_cover_every_event_once_newest_first() {
    let d = Driver::start().await;
    let user = d.unique_user();
    let events: Vec<Value> = (1..=5)
        .map(|day| json!({"user_id": user, "service_id": "s", "service_name": "S", "timestamp": format!("2024-01-0{day}T00:00:00Z")}))
        .collect();
    d.send_logins(&events).await;
    eventually("five events logged", Duration::from_secs(60), || async {
        let body = d.get_json(&format!("/users/{user}/activity?limit=100"), &user).await.1;
        (body["items"].as_array()?.len() == 5).then_some(())
    })
    .await;

    let mut seen = Vec::new();
    let mut next: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &next {
            None => format!("/users/{user}/activity?limit=2"),
            Some(c) => format!("/users/{user}/activity?limit=2&next={c}"),
        };
        let (status, body) = d.get_json(&path, &user).await;
        assert_eq!(status, 200, "{body}");
        pages += 1;
        for item in body["items"].as_array().unwrap() {
            seen.push(item["timestamp"].as_str().unwrap().to_owned());
        }
        match body["next"].as_str() {
            Some(c) => next = Some(c.to_owned()),
            None => break,
        }
        assert!(pages < 10, "pagination does not end");
    }
    let expected: Vec<String> = (1..=5).rev().map(|day| format!("2024-01-0{day}T00:00:00Z")).collect();
    assert_eq!(seen, expected);
    assert!(pages >= 3);

    let (status, _) = d.get_json(&format!("/users/{user}/activity?limit=0"), &user).await;
    assert_eq!(status, 400);
}
