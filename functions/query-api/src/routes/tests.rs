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
                report_id: (i == 0).then(|| REPORT.to_owned()),
                ticket_id: (i == 0).then_some(1001),
            })
            .collect();
        Ok(ActivityPage { items, next: Some(Cursor { sk: "EVENT#e1".into(), activity_time: "1#e1".into() }) })
    }
}

const REPORT: &str = "8d0c7a4e-3b1f-4f5e-9a61-0c2b8e7d9f10";

struct Reports;

fn report() -> reports::Report {
    reports::Report {
        report_id: REPORT.into(),
        user_id: "123456789".into(),
        status: reports::ReportStatus::TicketCreated,
        event_ids: vec!["e0".into()],
        reported_at: t("2022-08-04T09:00:00Z"),
        requested_at: t("2022-08-04T09:00:01Z"),
        content_hash: Some("hash".into()),
        ticket_id: Some(1001),
        ticket_created_at: Some(t("2022-08-04T09:00:02Z")),
        txma_event_id: None,
        txma_sent_at: None,
        notification_id: None,
        email_sent_at: None,
        completed_at: None,
        rejection_reason: None,
        failure: None,
        correlation_id: None,
        redrives: Vec::new(),
    }
}

#[async_trait]
impl ReportReader for Reports {
    async fn get(&self, id: &uuid::Uuid) -> Result<Option<reports::Report>, reports::ports::StoreError> {
        Ok((id.to_string() == REPORT).then(report))
    }
    async fn statuses(
        &self,
        ids: &[String],
    ) -> Result<Vec<(String, reports::ReportStatus)>, reports::ports::StoreError> {
        Ok(ids.iter().filter(|i| *i == REPORT).map(|i| (i.clone(), reports::ReportStatus::TicketCreated)).collect())
    }
}

async fn call(fixture: &str) -> (u16, Value) {
    let request = lambda_http::request::from_str(fixture).unwrap();
    call_request(request).await
}

async fn call_request(request: lambda_http::Request) -> (u16, Value) {
    let response = router(Stores { activity: Fixture, reports: Reports }).oneshot(request).await.unwrap();
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

/// A `sub` is compared exactly: ` 123456789` is another subject than `123456789`.
#[tokio::test]
async fn a_sub_with_spaces_around_it_is_not_the_user() {
    let mut event: Value =
        serde_json::from_str(include_str!("../../../../events/query-api/get-services.json")).unwrap();
    for sub in [" 123456789", "123456789 ", "\t123456789\n"] {
        event["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = sub.into();
        let (status, body) = call(&event.to_string()).await;
        assert_eq!(status, 403, "{sub:?}: {body}");
    }
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

/// The services fixture with another path (same claims: user 123456789).
fn get(path: &str) -> lambda_http::Request {
    let mut fixture: Value =
        serde_json::from_str(include_str!("../../../../events/query-api/get-services.json")).unwrap();
    fixture["rawPath"] = Value::String(path.to_owned());
    fixture["routeKey"] = Value::String(format!("GET {path}"));
    fixture["requestContext"]["http"]["path"] = Value::String(path.to_owned());
    fixture["pathParameters"] = Value::Null;
    lambda_http::request::from_str(&fixture.to_string()).unwrap()
}

#[tokio::test]
async fn a_users_own_report_shows_its_status_ids_and_timestamps() {
    let (status, body) = call_request(get(&format!("/users/123456789/reports/{REPORT}"))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "TICKET_CREATED");
    assert_eq!(body["ticket_id"], 1001);
    assert_eq!(body["timestamps"]["ticket_created_at"], "2022-08-04T09:00:02Z");
    assert!(body["txma_event_id"].is_null());
    assert!(body.get("content_hash").is_none(), "internal fields stay internal");
}

#[tokio::test]
async fn unknown_and_malformed_report_ids_are_404_and_400_and_others_reports_403() {
    let (status, _) = call_request(get("/users/123456789/reports/11111111-2222-4333-8444-555555555555")).await;
    assert_eq!(status, 404);
    let (status, _) = call_request(get("/users/123456789/reports/not-a-uuid")).await;
    assert_eq!(status, 400);
    let (status, _) = call_request(get(&format!("/users/someone-else/reports/{REPORT}"))).await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn reported_activity_items_show_their_report_and_its_status() {
    let (status, body) = call_request(get("/users/123456789/activity")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["items"][0]["report"]["report_id"], REPORT);
    assert_eq!(body["items"][0]["report"]["status"], "TICKET_CREATED");
    assert_eq!(body["items"][0]["report"]["ticket_id"], 1001);
    assert!(body["items"][1].get("report").is_none());
}
