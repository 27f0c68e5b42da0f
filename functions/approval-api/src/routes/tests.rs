//! Handler tests: the sample API Gateway events from `events/approval-api`, through
//! the real router, over the in-memory store.

use std::sync::Arc;

use approvals::testing::{FakeMailer, MemoryApprovalStore};
use approvals::usecases::{send_approval_emails, EffectContext};
use approvals::{ApprovalRequested, Status, Token};
use axum::body::to_bytes;
use kit::clock::FixedClock;
use kit::testing::RecordingPublisher;
use serde_json::{json, Value};
use tower::ServiceExt;

use super::*;

const CREATE: &str = include_str!("../../../../events/approval-api/create-request.json");
const OPEN: &str = include_str!("../../../../events/approval-api/open-link.json");
const ID: &str = "demo-restart-1";
const APPROVERS: [&str; 3] = ["ops-lead@example.org", "duty-manager@example.org", "sre@example.org"];

type TestApp = App<Arc<MemoryApprovalStore>, Arc<RecordingPublisher>, SharedClock>;

struct Harness {
    store: Arc<MemoryApprovalStore>,
    requested: Arc<RecordingPublisher>,
    decided: Arc<RecordingPublisher>,
    clock: Arc<FixedClock>,
    mailer: FakeMailer,
}

/// The harness's clock, shared with the router (so tests can move time).
#[derive(Clone)]
struct SharedClock(Arc<FixedClock>);

impl kit::clock::Clock for SharedClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.now()
    }
}

fn now() -> chrono::DateTime<chrono::Utc> {
    "2024-06-01T12:00:00Z".parse().unwrap()
}

impl Harness {
    fn new() -> Self {
        Self {
            store: Arc::default(),
            requested: Arc::default(),
            decided: Arc::default(),
            clock: Arc::new(FixedClock::at(now())),
            mailer: FakeMailer::default(),
        }
    }

    fn app(&self) -> TestApp {
        App {
            store: self.store.clone(),
            requested: self.requested.clone(),
            decided: self.decided.clone(),
            clock: SharedClock(self.clock.clone()),
            outbox_delay: chrono::Duration::minutes(2),
            callers: crate::callers::Callers {
                service: crate::callers::AllowList::parse(&["arn:aws:iam::123456789012:role/approval-service"])
                    .unwrap(),
                processor: crate::callers::AllowList::parse(&[
                    "arn:aws:iam::123456789012:role/onprem/approval-processor",
                ])
                .unwrap(),
            },
        }
    }

    async fn call(&self, request: lambda_http::Request) -> (u16, String, http::HeaderMap) {
        let response = router(self.app()).oneshot(request).await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = to_bytes(response.into_body(), 1 << 20).await.unwrap();
        (status, String::from_utf8(body.to_vec()).unwrap(), headers)
    }

    async fn call_json(&self, request: lambda_http::Request) -> (u16, Value) {
        let (status, body, _) = self.call(request).await;
        (status, serde_json::from_str(&body).unwrap_or(Value::Null))
    }

    /// The sample request stored, and its approval emails sent (tokens in `mailer`).
    async fn requested_and_emailed(&self) {
        let (status, _) = self.call_json(event(CREATE)).await;
        assert_eq!(status, 201);
        let ctx = record_context();
        let event = ApprovalRequested { request_id: ID.into() };
        send_approval_emails(
            self.store.as_ref(),
            &self.mailer,
            "https://x",
            event,
            EffectContext { record: &ctx, now: now() },
        )
        .await
        .unwrap();
    }

    fn token(&self, approver: usize) -> String {
        let email = &self.mailer.sent_to(APPROVERS[approver])[0];
        let start = email.text.find("token=").unwrap() + 6;
        email.text[start..start + approvals::token::TOKEN_CHARS].to_owned()
    }
}

fn record_context() -> kit::batch::RecordContext {
    kit::batch::RecordContext {
        step: Arc::from("t"),
        message_id: "m".into(),
        correlation_id: "c".into(),
        workflow_id: None,
        receive_count: 1,
        first_received_at: None,
        group_id: None,
        deadline: None,
    }
}

fn event(fixture: &str) -> lambda_http::Request {
    lambda_http::request::from_str(fixture).unwrap()
}

const SERVICE: &str = "arn:aws:sts::123456789012:assumed-role/approval-service/onprem-monitoring";
const PROCESSOR: &str = "arn:aws:sts::123456789012:assumed-role/approval-processor/host-1";

/// The create fixture (IAM caller: the on-prem service) as another service call.
fn service(method: &str, path: &str, body: Option<Value>) -> lambda_http::Request {
    as_caller(SERVICE, method, path, body)
}

/// The same call by the on-prem processor.
fn processor(method: &str, path: &str, body: Option<Value>) -> lambda_http::Request {
    as_caller(PROCESSOR, method, path, body)
}

/// The create fixture as a call by `caller` (the `userArn` API Gateway reports).
fn as_caller(caller: &str, method: &str, path: &str, body: Option<Value>) -> lambda_http::Request {
    let mut e: Value = serde_json::from_str(CREATE).unwrap();
    e["requestContext"]["authorizer"]["iam"]["userArn"] = caller.into();
    e["rawPath"] = path.into();
    e["routeKey"] = format!("{method} {path}").into();
    e["requestContext"]["http"]["method"] = method.into();
    e["requestContext"]["http"]["path"] = path.into();
    e["body"] = body.map_or(Value::Null, |b| b.to_string().into());
    lambda_http::request::from_str(&e.to_string()).unwrap()
}

/// The link fixture with this query (GET) or this form body (POST).
fn link(method: &str, query: &str, form: Option<&str>) -> lambda_http::Request {
    let mut e: Value = serde_json::from_str(OPEN).unwrap();
    e["requestContext"]["http"]["method"] = method.into();
    e["routeKey"] = format!("{method} /approvals/{{request_id}}").into();
    e["rawQueryString"] = query.into();
    let params: serde_json::Map<String, Value> =
        form_urlencoded::parse(query.as_bytes()).into_owned().map(|(k, v)| (k, Value::String(v))).collect();
    e["queryStringParameters"] = if params.is_empty() { Value::Null } else { Value::Object(params) };
    if let Some(body) = form {
        e["body"] = body.into();
        e["headers"]["content-type"] = "application/x-www-form-urlencoded".into();
    }
    lambda_http::request::from_str(&e.to_string()).unwrap()
}

fn form(token: &str, action: &str) -> String {
    format!("token={token}&action={action}")
}

#[tokio::test]
async fn the_service_creates_a_request_once_and_a_retry_gets_it_back() {
    let h = Harness::new();
    let (status, body) = h.call_json(event(CREATE)).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["request_id"], ID);
    assert_eq!(body["status"], "PENDING");
    assert_eq!(body["approvers"]["total"], 3);
    assert!(!body.to_string().contains("@example.org"), "no addresses in answers: {body}");
    assert_eq!(h.requested.of_type("approval.requested").len(), 1);
    assert_eq!(h.requested.of_type("approval.requested")[0]["correlation_id"], "req-create-1");

    let (status, _) = h.call_json(event(CREATE)).await;
    assert_eq!(status, 200, "a retry");
}

#[tokio::test]
async fn service_routes_need_an_iam_caller_and_valid_input() {
    let h = Harness::new();
    let mut e: Value = serde_json::from_str(CREATE).unwrap();
    e["requestContext"].as_object_mut().unwrap().remove("authorizer");
    let (status, _) = h.call_json(lambda_http::request::from_str(&e.to_string()).unwrap()).await;
    assert_eq!(status, 403);

    let bad = json!({"issue_id": "I", "action": "a", "approvers": "ops-lead@example.org", "expires_in_minutes": 5});
    let (status, body) = h.call_json(service("POST", "/approval-requests", Some(bad))).await;
    assert_eq!(status, 400);
    assert!(!body.to_string().contains("ops-lead@example.org"), "serde's message is redacted: {body}");
    let (status, body) = h.call_json(service("GET", "/approval-requests/nope", None)).await;
    assert_eq!(status, 404);
    assert_eq!(body["error"], "request_not_found", "the processor tells this 404 from a gateway's: {body}");
}

#[tokio::test]
async fn opening_a_link_shows_a_confirmation_page_and_changes_nothing() {
    let h = Harness::new();
    h.requested_and_emailed().await;
    let before = h.store.request(ID).unwrap();
    let token = h.token(0);
    let (status, page, headers) = h.call(link("GET", &format!("token={token}&action=approve"), None)).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("<form method=\"post\""), "{page}");
    assert!(page.contains("name=\"action\" value=\"approve\""));
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(h.store.request(ID).unwrap(), before);
}

#[tokio::test]
async fn the_first_posted_decision_wins_and_later_ones_say_how_it_was_decided() {
    let h = Harness::new();
    h.requested_and_emailed().await;
    let (status, page, _) = h.call(link("POST", "", Some(&form(&h.token(1), "reject")))).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("rejected"));
    assert_eq!(h.store.request(ID).unwrap().status, Status::Rejected);
    assert_eq!(h.decided.of_type("approval.decided").len(), 1);

    for (i, action) in [(0, "approve"), (1, "reject"), (2, "approve")] {
        let (status, page, _) = h.call(link("POST", "", Some(&form(&h.token(i), action)))).await;
        assert_eq!(status, 409, "{page}");
        assert!(page.contains("already <b>rejected</b>"), "{page}");
        assert!(!page.contains("@example.org"), "not who: {page}");
    }
    let (status, _, _) = h.call(link("GET", &format!("token={}&action=approve", h.token(2)), None)).await;
    assert_eq!(status, 409);
    assert_eq!(h.decided.of_type("approval.decided").len(), 1);
}

#[tokio::test]
async fn malformed_unknown_and_expired_links_are_400_400_and_410() {
    let h = Harness::new();
    h.requested_and_emailed().await;
    for query in ["", "token=short&action=approve", &format!("token={}&action=maybe", h.token(0))] {
        let (status, _, _) = h.call(link("GET", query, None)).await;
        assert_eq!(status, 400, "{query}");
    }
    let stranger = Token::generate().unwrap().expose();
    let (status, _, _) = h.call(link("POST", "", Some(&form(&stranger, "approve")))).await;
    assert_eq!(status, 400);

    h.clock.advance(chrono::Duration::minutes(61));
    let (status, page, _) = h.call(link("POST", "", Some(&form(&h.token(0), "approve")))).await;
    assert_eq!(status, 410, "{page}");
    assert_eq!(h.store.request(ID).unwrap().status, Status::Pending);
    let (_, body) = h.call_json(service("GET", &format!("/approval-requests/{ID}"), None)).await;
    assert_eq!(body["status"], "EXPIRED");
}

/// The on-prem processor deletes a decision on this answer only (a gateway's bare 404,
/// e.g. for a wrong stage, keeps it), and probes an outage with a rejection report
/// for an id that does not exist.
#[tokio::test]
async fn every_execution_report_for_an_unknown_request_says_request_not_found() {
    let h = Harness::new();
    let path = "/approval-requests/no-such-request/execution";
    for report in [
        json!({"state": "EXECUTING", "attempt_id": "a1"}),
        json!({"state": "EXECUTED", "attempt_id": "a1", "output": "done"}),
        json!({"state": "FAILED", "attempt_id": "a1", "output": "no"}),
        json!({"state": "REJECTION_RECORDED", "attempt_id": "a1"}),
    ] {
        let (status, body) = h.call_json(processor("POST", path, Some(report.clone()))).await;
        assert_eq!(status, 404, "{report}: {body}");
        assert_eq!(body["error"], "request_not_found", "{report}: {body}");
    }
}

#[tokio::test]
async fn the_processor_begins_once_finishes_and_an_interrupted_run_is_reported_as_such() {
    let h = Harness::new();
    h.requested_and_emailed().await;
    h.call(link("POST", "", Some(&form(&h.token(0), "approve")))).await;
    let path = format!("/approval-requests/{ID}/execution");
    let begin = |attempt: &str| processor("POST", &path, Some(json!({"state": "EXECUTING", "attempt_id": attempt})));

    let (status, body) = h.call_json(begin("a1")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["action"], "restart-service");
    assert_eq!(body["action_parameters"]["service"], "billing");
    let (status, body) = h.call_json(begin("a2")).await;
    assert_eq!(status, 409);
    assert_eq!(body["error"], "interrupted");
    assert_eq!(body["attempt_id"], "a1");

    let done = json!({"state": "EXECUTED", "attempt_id": "a1", "output": "restarted"});
    let (status, body) = h.call_json(processor("POST", &path, Some(done.clone()))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "EXECUTED");
    assert_eq!(body["execution"]["output"], "restarted");
    let (status, _) = h.call_json(processor("POST", &path, Some(done))).await;
    assert_eq!(status, 200, "a repeated report");
    let (status, body) = h.call_json(begin("a3")).await;
    assert_eq!((status, body["error"].as_str()), (409, Some("finished")));

    let (status, _) =
        h.call_json(processor("POST", &path, Some(json!({"state": "REJECTION_RECORDED", "attempt_id": "a4"})))).await;
    assert_eq!(status, 409);
    let (status, _) = h.call_json(processor("POST", &path, Some(json!({"state": "DONE", "attempt_id": "a4"})))).await;
    assert_eq!(status, 400);

    let (_, view) = h.call_json(service("GET", &format!("/approval-requests/{ID}"), None)).await;
    let events: Vec<&str> = view["history"].as_array().unwrap().iter().map(|h| h["event"].as_str().unwrap()).collect();
    assert_eq!(events, ["requested", "approvers_emailed", "APPROVED", "EXECUTING", "EXECUTED"]);
    assert!(view["decision"].get("decided_by").is_none());
}

#[tokio::test]
async fn each_service_route_admits_only_its_principals() {
    let h = Harness::new();
    h.requested_and_emailed().await;
    h.call(link("POST", "", Some(&form(&h.token(0), "approve")))).await;
    let view = format!("/approval-requests/{ID}");
    let execution = format!("/approval-requests/{ID}/execution");
    let begin = json!({"state": "EXECUTING", "attempt_id": "a1"});
    let create =
        || -> Value { serde_json::from_str::<Value>(CREATE).unwrap()["body"].as_str().unwrap().parse().unwrap() };

    // The service may not report executions; the processor may not create or read.
    let (status, body) = h.call_json(service("POST", &execution, Some(begin.clone()))).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"], "caller_not_allowed");
    assert_eq!(body["message"], format!("{SERVICE} is not allowed to report executions of approval requests"));
    let (status, body) = h.call_json(processor("POST", "/approval-requests", Some(create()))).await;
    assert_eq!((status, body["error"].as_str()), (403, Some("caller_not_allowed")), "{body}");
    let (status, body) = h.call_json(processor("GET", &view, None)).await;
    assert_eq!((status, body["error"].as_str()), (403, Some("caller_not_allowed")), "{body}");

    // Nor may anyone else: another role (a function's), another account, a user.
    for stranger in [
        "arn:aws:sts::123456789012:assumed-role/workflows-ApprovalApiRole/workflows-approval-api",
        "arn:aws:sts::210987654321:assumed-role/approval-service/onprem-monitoring",
        "arn:aws:iam::123456789012:user/approval-processor",
    ] {
        for (method, path, body) in [
            ("POST", execution.as_str(), Some(begin.clone())),
            ("GET", view.as_str(), None),
            ("POST", "/approval-requests", Some(create())),
        ] {
            let (status, answer) = h.call_json(as_caller(stranger, method, path, body)).await;
            assert_eq!(status, 403, "{stranger} {method} {path}: {answer}");
        }
    }
    assert_eq!(h.store.request(ID).unwrap().status, Status::Approved, "nothing was executed");
    assert_eq!(h.requested.of_type("approval.requested").len(), 1, "nothing else was created");

    // The right callers do get through.
    assert_eq!(h.call_json(processor("POST", &execution, Some(begin))).await.0, 200);
    assert_eq!(h.call_json(service("GET", &view, None)).await.0, 200);
}

#[tokio::test]
async fn the_service_sees_refused_approvers_counted_and_a_request_nobody_can_get_as_undeliverable() {
    let h = Harness::new();
    h.mailer.refuse(APPROVERS[1]);
    h.requested_and_emailed().await;
    let (status, body) = h.call_json(service("GET", &format!("/approval-requests/{ID}"), None)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "PENDING", "the others can decide");
    assert_eq!(
        (body["approvers"]["emailed"].clone(), body["approvers"]["undeliverable"].clone()),
        (json!(2), json!(1))
    );
    assert!(!body.to_string().contains("@example.org"), "no addresses in answers: {body}");

    let h = Harness::new();
    for a in APPROVERS {
        h.mailer.refuse(a);
    }
    h.requested_and_emailed().await;
    let (status, body) = h.call_json(service("GET", &format!("/approval-requests/{ID}"), None)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "UNDELIVERABLE", "{body}");
    assert_eq!(body["approvers"]["undeliverable"], 3);
    let last = body["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["event"], "UNDELIVERABLE", "{body}");
    // Nothing to execute: the processor is told so, as for any request not approved.
    let report = json!({"state": "EXECUTING", "attempt_id": "a-1"});
    let (status, body) =
        h.call_json(processor("POST", &format!("/approval-requests/{ID}/execution"), Some(report))).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!((body["error"].clone(), body["status"].clone()), (json!("not_approved"), json!("UNDELIVERABLE")));
}
