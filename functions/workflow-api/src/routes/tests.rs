//! Handler tests: the sample API Gateway events from `events/workflow-api`, through
//! the real router, against in-memory stores and a recording publisher.

use std::sync::Arc;

use ::audit::testing::{MemoryAudit, MemoryNotifications, MemoryWorkflows, RecordingChannel, TestSigningKey};
use ::audit::usecases::{append_record, notify};
use ::audit::WorkflowAction;
use axum::body::to_bytes;
use kit::clock::FixedClock;
use kit::testing::RecordingPublisher;
use kit::Envelope;
use serde_json::{json, Value};
use tower::ServiceExt;

use super::*;

struct World {
    workflows: Arc<MemoryWorkflows>,
    publisher: Arc<RecordingPublisher>,
    audit: Arc<MemoryAudit>,
    notifications: Arc<MemoryNotifications>,
}

impl World {
    fn new() -> Self {
        Self {
            workflows: Arc::default(),
            publisher: Arc::default(),
            audit: Arc::default(),
            notifications: Arc::default(),
        }
    }

    fn router(&self) -> Router {
        router(App {
            workflows: self.workflows.clone(),
            publisher: self.publisher.clone(),
            audit: self.audit.clone(),
            trail_key: Arc::new(TestSigningKey::default()),
            notifications: self.notifications.clone(),
            clock: Arc::new(FixedClock::at("2024-06-01T12:00:00Z".parse().unwrap())),
        })
    }

    async fn call(&self, event: Value) -> (u16, Value, Option<String>) {
        let request = lambda_http::request::from_str(&event.to_string()).unwrap();
        let response = self.router().oneshot(request).await.unwrap();
        let status = response.status().as_u16();
        let retry_after = response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
        let body = to_bytes(response.into_body(), 1 << 20).await.unwrap();
        (status, serde_json::from_slice(&body).unwrap_or(Value::Null), retry_after)
    }

    /// Runs both steps over everything published so far.
    async fn deliver(&self) {
        let now = "2024-06-01T12:00:01Z".parse().unwrap();
        for value in self.publisher.of_type("workflow.action") {
            let event: Envelope<WorkflowAction> = serde_json::from_value(value).unwrap();
            append_record(self.audit.as_ref(), &TestSigningKey::default(), &event, now).await.unwrap();
            notify(self.notifications.as_ref(), &RecordingChannel::default(), "notifications-", &event, now)
                .await
                .unwrap();
        }
    }
}

fn fixture(name: &str) -> Value {
    let text = match name {
        "post-workflow" => include_str!("../../../../events/workflow-api/post-workflow.json"),
        "post-action-request" => include_str!("../../../../events/workflow-api/post-action-request.json"),
        "post-action-approve" => include_str!("../../../../events/workflow-api/post-action-approve.json"),
        "get-audit-by-workflow" => include_str!("../../../../events/workflow-api/get-audit-by-workflow.json"),
        "get-notifications" => include_str!("../../../../events/workflow-api/get-notifications.json"),
        other => panic!("no fixture {other}"),
    };
    serde_json::from_str(text).unwrap()
}

fn as_user(mut event: Value, sub: &str, roles: &str) -> Value {
    event["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = sub.into();
    event["requestContext"]["authorizer"]["jwt"]["claims"]["roles"] = roles.into();
    event
}

fn with_path(mut event: Value, path: &str) -> Value {
    event["rawPath"] = path.into();
    event["requestContext"]["http"]["path"] = path.into();
    event
}

#[tokio::test]
async fn draft_request_approve_through_the_api_and_the_trail_and_notifications_it_leaves() {
    let w = World::new();
    let (status, body, _) = w.call(fixture("post-workflow")).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["workflow"]["state"], "DRAFT");
    assert_eq!(body["workflow"]["data"]["amount"], 1200);
    assert_eq!(body["action"]["seq"], 1);
    let (status, body, _) = w.call(fixture("post-action-request")).await;
    assert_eq!((status, body["workflow"]["state"].clone()), (200, json!("REQUESTED")), "{body}");
    let (status, body, _) = w.call(fixture("post-action-approve")).await;
    assert_eq!((status, body["workflow"]["state"].clone()), (200, json!("APPROVED")), "{body}");

    let events = w.publisher.of_type("workflow.action");
    assert_eq!(events.len(), 3);
    assert_eq!(events[2]["correlation_id"], "req-post-approver-1", "API Gateway's request id");
    assert_eq!(events[2]["payload"]["actor_roles"], json!(["approver"]));
    w.deliver().await;

    let (status, body, _) = w.call(fixture("get-audit-by-workflow")).await;
    assert_eq!(status, 200, "{body}");
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.iter().map(|i| i["action"].clone()).collect::<Vec<_>>(), vec!["save", "request", "approve"]);
    assert_eq!(items[0]["data"]["address"], "1 High St", "data comes back as JSON");
    assert_eq!(items[1]["prev_hash"], items[0]["hash"]);
    let verify = with_path(fixture("get-audit-by-workflow"), "/audit/verify");
    let (status, body, _) = w.call(verify).await;
    assert_eq!((status, body["valid"].clone(), body["records"].clone()), (200, json!(true), json!(3)), "{body}");

    let (status, body, _) = w.call(fixture("get-notifications")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["unread"], 3);
    assert_eq!(body["items"][0]["action"], "approve", "newest first");
    let id = body["items"][0]["notification_id"].as_str().unwrap().to_owned();
    let mut read = fixture("get-notifications");
    read["requestContext"]["http"]["method"] = "POST".into();
    let read = with_path(read, &format!("/users/requester-1/notifications/{id}/read"));
    let (status, body, _) = w.call(read.clone()).await;
    assert_eq!((status, body["read"].clone()), (200, json!(true)), "{body}");
    let (_, body, _) = w.call(fixture("get-notifications")).await;
    assert_eq!(body["unread"], 2);

    // Another user: neither the list nor the mark.
    let (status, _, _) = w.call(as_user(fixture("get-notifications"), "approver-1", "[approver]")).await;
    assert_eq!(status, 403);
    let (status, _, _) = w.call(as_user(read, "approver-1", "[approver]")).await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn refusals_are_403_or_409_with_the_reason_and_publish_nothing() {
    let w = World::new();
    w.call(fixture("post-workflow")).await;
    let (status, body, _) = w.call(fixture("post-action-approve")).await;
    assert_eq!((status, body["error"].clone()), (409, json!("invalid_transition")), "approving a draft: {body}");
    assert!(body["message"].as_str().unwrap().contains("not requested"));
    w.call(fixture("post-action-request")).await;
    let self_approval = as_user(fixture("post-action-approve"), "requester-1", "[requester approver]");
    let (status, body, _) = w.call(self_approval).await;
    assert_eq!((status, body["error"].clone()), (403, json!("forbidden")));
    assert!(body["message"].as_str().unwrap().contains("own request"), "{body}");
    let (status, _, _) = w.call(as_user(fixture("post-action-approve"), "approver-1", "[requester]")).await;
    assert_eq!(status, 403, "no approver role");
    let (status, _, _) = w.call(as_user(fixture("post-action-approve"), "stranger", "[approver]")).await;
    assert_eq!(status, 404, "a stranger does not learn the workflow exists");
    let (status, _, _) = w.call(as_user(fixture("get-audit-by-workflow"), "approver-1", "[approver]")).await;
    assert_eq!(status, 403, "the audit trail is for auditors");
    for claim in ["x,auditor", "Night auditor"] {
        let (status, _, _) = w.call(as_user(fixture("get-audit-by-workflow"), "auditor-1", claim)).await;
        assert_eq!(status, 403, "{claim:?} only contains the auditor role's name (issue 13)");
    }
    assert_eq!(w.publisher.of_type("workflow.action").len(), 2, "create and request only");
}

#[tokio::test]
async fn bad_bodies_are_400_without_echoing_input_and_no_claims_is_401() {
    let w = World::new();
    let mut bad = fixture("post-action-request");
    assert_eq!(w.call(bad.clone()).await.0, 404, "no workflow: nothing about the body is said");
    w.call(fixture("post-workflow")).await;
    bad["body"] = r#"{"action": "request", "comment": 42, "secret": "hunter2"}"#.into();
    let (status, body, _) = w.call(bad).await;
    assert_eq!(status, 400, "{body}");
    assert!(!body.to_string().contains("hunter2"));
    let mut unknown = fixture("post-workflow");
    unknown["body"] = r#"{"scheme": "s", "approvers": ["b"], "aprovers": []}"#.into();
    assert_eq!(w.call(unknown).await.0, 400, "unknown fields are refused");
    let mut anonymous = fixture("post-workflow");
    anonymous["requestContext"]["authorizer"] = Value::Null;
    assert_eq!(w.call(anonymous).await.0, 401);
    let (status, _, _) = w.call(as_user(fixture("post-workflow"), "approver-1", "[approver]")).await;
    assert_eq!(status, 403, "creating needs the requester role");
}

#[tokio::test]
async fn a_lost_announcement_is_a_503_with_retry_after_and_the_retry_replays_it() {
    let w = World::new();
    w.call(fixture("post-workflow")).await;
    w.publisher.fail_next(1);
    let (status, body, retry_after) = w.call(fixture("post-action-request")).await;
    assert_eq!((status, body["error"].clone(), retry_after.as_deref()), (503, json!("not_announced"), Some("1")));
    let (status, body, _) = w.call(fixture("post-action-request")).await;
    assert_eq!((status, body["replayed"].clone(), body["action"]["seq"].clone()), (200, json!(true), json!(2)));
    assert_eq!(w.publisher.of_type("workflow.action").len(), 2);
}

#[test]
fn cognito_groups_count_as_roles() {
    use lambda_http::request::RequestContext as Ctx;
    let mut event = fixture("post-workflow");
    let claims = &mut event["requestContext"]["authorizer"]["jwt"]["claims"];
    claims.as_object_mut().unwrap().remove("roles");
    claims["cognito:groups"] = "[auditor requester]".into();
    let request = lambda_http::request::from_str(&event.to_string()).unwrap();
    let caller = crate::auth::caller_from(request.extensions().get::<Ctx>()).unwrap();
    assert!(caller.roles.has(::audit::Role::Auditor) && caller.roles.has(::audit::Role::Requester));
}
