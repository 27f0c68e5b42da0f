//! Handler tests: the sample API Gateway events from `events/query-api`, through the
//! real router, against an in-memory reader.

use activity::cursor::Cursor;
use activity::{ActivityItem, ActivityPage, ServiceEntry, StoreError};
use async_trait::async_trait;
use axum::body::to_bytes;
use tower::ServiceExt;

use super::*;

struct Fixture;

fn t(s: &str) -> chrono::DateTime<chrono::Utc> {
    s.parse().unwrap()
}

#[async_trait]
impl ActivityReader for Fixture {
    async fn services(&self, user: &UserId) -> Result<Vec<ServiceEntry>, StoreError> {
        if user.as_str() != "123456789" {
            return Ok(vec![]);
        }
        Ok(vec![
            ServiceEntry {
                service_id: "abcdef".into(),
                service_name: "A service name".into(),
                last_accessed: t("2022-08-04T08:50:39Z"),
                login_count: 2,
            },
            ServiceEntry {
                service_id: "ghijkl".into(),
                service_name: "Another service name".into(),
                last_accessed: t("2022-07-03T10:23:45Z"),
                login_count: 1,
            },
        ])
    }
    async fn activity(&self, _user: &UserId, limit: u32, after: Option<Cursor>) -> Result<ActivityPage, StoreError> {
        assert!(after.is_none());
        let items: Vec<ActivityItem> = (0..limit)
            .map(|i| ActivityItem {
                event_id: format!("e{i}"),
                service_id: "abcdef".into(),
                service_name: "A service name".into(),
                timestamp: t("2022-08-04T08:50:39Z"),
                session_id: None,
            })
            .collect();
        Ok(ActivityPage { items, next: Some(Cursor { sk: "EVENT#e1".into(), activity_time: "1#e1".into() }) })
    }
}

async fn call(fixture: &str) -> (u16, Value) {
    let request = lambda_http::request::from_str(fixture).unwrap();
    let response = router(Fixture).oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let body = to_bytes(response.into_body(), 1 << 20).await.unwrap();
    (status, serde_json::from_slice(&body).unwrap())
}

#[tokio::test]
async fn own_services_come_back_in_the_seed_shape_newest_first() {
    let (status, body) = call(include_str!("../../../../events/query-api/get-services.json")).await;
    assert_eq!(status, 200);
    assert_eq!(body["user_id"], "123456789");
    assert_eq!(body["services"][0]["service_id"], "abcdef");
    assert_eq!(body["services"][0]["last_accessed"], "2022-08-04T08:50:39Z");
    assert_eq!(body["services"][1]["service_name"], "Another service name");
}

#[tokio::test]
async fn another_users_services_are_forbidden() {
    let (status, body) = call(include_str!("../../../../events/query-api/get-services-other-user.json")).await;
    assert_eq!(status, 403);
    assert_eq!(body["error"], "forbidden");
}

#[tokio::test]
async fn no_claims_is_unauthenticated() {
    let (status, _) = call(include_str!("../../../../events/query-api/get-services-no-claims.json")).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn activity_pages_carry_a_next_cursor() {
    let (status, body) = call(include_str!("../../../../events/query-api/get-activity.json")).await;
    assert_eq!(status, 200);
    assert_eq!(body["items"].as_array().unwrap().len(), 2);
    let next = body["next"].as_str().unwrap();
    assert!(Cursor::decode(next).is_ok());
}

#[tokio::test]
async fn bad_limits_and_cursors_are_400() {
    let base: Value = serde_json::from_str(include_str!("../../../../events/query-api/get-activity.json")).unwrap();
    for (k, v) in [("limit", "0"), ("limit", "1000"), ("limit", "ten"), ("next", "garbage!")] {
        let mut ev = base.clone();
        ev["rawQueryString"] = format!("{k}={v}").into();
        ev["queryStringParameters"] = serde_json::json!({ k: v });
        let (status, body) = call(&ev.to_string()).await;
        assert_eq!(status, 400, "{k}={v}: {body}");
    }
}

#[tokio::test]
async fn healthz_needs_no_claims() {
    let (status, body) = call(include_str!("../../../../events/query-api/healthz.json")).await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "ok");
}
