//! Every route of the HTTP API against every way a caller can be wrong: no token,
//! an expired one, a tampered one, another user's, and (where a role is needed) a
//! token without it; on `AWS_IAM` routes no signature, a local token, a wrong secret,
//! a function's credentials and the other on-prem principal's. Zero leaks: no wrong
//! caller gets a 2xx or sees another user's data. A route added to the template
//! without an entry here fails this test.

use std::time::Duration;

use integration_tests::{eventually, Driver};
use local_stack::SigV4Client;
use serde_json::json;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Policy {
    /// No token needed (health checks, approvers' one-time links).
    Public,
    /// The token's subject must be the `{user_id}` of the path.
    OwnUser,
    /// The token's `roles` claim must name this role (seed 004's workflow and audit routes).
    Role(&'static str),
    /// Only the workflow's requester, approvers and auditors see it: an unknown id is 404 to everyone.
    Participant,
    /// `AWS_IAM`: signed with SigV4 by this named principal, whose policy allows the
    /// route (and whom approval-api admits). Nothing else gets through.
    Iam(&'static str),
}

/// The expected policy of each route key of the template.
const EXPECTED: &[(&str, Policy)] = &[
    ("GET /healthz", Policy::Public),
    ("GET /users/{user_id}/services", Policy::OwnUser),
    ("GET /users/{user_id}/activity", Policy::OwnUser),
    ("GET /users/{user_id}/reports/{report_id}", Policy::OwnUser),
    ("GET /contacts/{contact_id}", Policy::Role("ops")),
    ("GET /contacts", Policy::Role("ops")),
    ("POST /workflows", Policy::Role("requester")),
    ("GET /workflows/{workflow_id}", Policy::Participant),
    ("POST /workflows/{workflow_id}/actions", Policy::Participant),
    ("GET /audit", Policy::Role("auditor")),
    ("GET /audit/verify", Policy::Role("auditor")),
    ("GET /users/{user_id}/notifications", Policy::OwnUser),
    ("POST /users/{user_id}/notifications/{notification_id}/read", Policy::OwnUser),
    ("POST /approval-requests", Policy::Iam("approval-service")),
    ("GET /approval-requests/{request_id}", Policy::Iam("approval-service")),
    ("POST /approval-requests/{request_id}/execution", Policy::Iam("approval-processor")),
    // Approvers' one-time links: the token in the link is the credential.
    ("GET /approvals/{request_id}", Policy::Public),
    ("POST /approvals/{request_id}", Policy::Public),
];

const MARKER: &str = "A-private-service-name";

fn fill(path: &str, user: &str) -> String {
    path.replace("{user_id}", user)
        .replace("{report_id}", &uuid::Uuid::new_v4().to_string())
        .replace("{contact_id}", &uuid::Uuid::new_v4().to_string())
        .replace("{workflow_id}", &uuid::Uuid::new_v4().to_string())
        .replace("{notification_id}", &uuid::Uuid::new_v4().to_string())
        .replace("{request_id}", &uuid::Uuid::new_v4().to_string())
}

/// `method path` signed by `signer`: (status, body).
async fn signed(d: &Driver, signer: &SigV4Client, method: &str, path: &str) -> (u16, String) {
    let url = format!("{}{path}", d.stack().http_url());
    let resp = match method {
        "GET" => signer.get(&url).await,
        "POST" => signer.post_json(&url, &json!({})).await,
        other => panic!("no method {other} in the matrix yet"),
    };
    let resp = resp.expect("HTTP API request");
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap_or_default())
}

/// Every way a signed caller of an `AWS_IAM` route can be wrong, and what API
/// Gateway must say to each: the route's principal with a wrong secret; a function
/// and the other on-prem principal, whose policies do not allow the route.
async fn wrong_signers(d: &Driver, principal: &str, method: &str, path: &str) -> Vec<String> {
    let stack = d.stack();
    let authorizer = stack.authorizer().expect("IAM is on");
    let function = authorizer.principals().find(|p| p.is_function).expect("a function principal");
    let other = if principal == "approval-service" { "approval-processor" } else { "approval-service" };
    let other = authorizer.principal_named(other).expect("the other on-prem principal");
    let ctx = stack.context();
    let route_arn = format!(
        "arn:aws:execute-api:{}:{}:local/$default/{method}/{}",
        ctx.region,
        ctx.account_id,
        path.trim_start_matches('/')
    );
    let denied = |session: &str| {
        format!("User: {session} is not authorized to perform: execute-api:Invoke on resource: {route_arn} ")
    };
    let cases = [
        (
            "a wrong secret",
            d.signer(principal).with_secret("not-the-secret"),
            "The request signature we calculated does not match".to_owned(),
        ),
        ("a function's credentials", d.signer(&function.name), denied(&function.session_arn)),
        ("the other principal's credentials", d.signer(&other.name), denied(&other.session_arn)),
    ];
    let mut leaks = Vec::new();
    for (what, signer, expected) in cases {
        let (status, body) = signed(d, &signer, method, path).await;
        if status != 403 || !body.contains(&expected) || body.contains(MARKER) {
            leaks.push(format!("{method} {path} with {what}: {status} {body} (expected 403 saying {expected:?})"));
        }
    }
    leaks
}

async fn call(d: &Driver, method: &str, path: &str, auth: Option<String>) -> (u16, String) {
    let url = format!("{}{path}", d.stack().http_url());
    let client = kit::http::client().expect("http client");
    let mut req = match method {
        "GET" => client.get(url),
        "POST" => client.post(url).json(&json!({})),
        other => panic!("no method {other} in the matrix yet"),
    };
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    let resp = req.send().await.expect("HTTP API request");
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_wrong_caller_reaches_any_route() {
    let d = Driver::start().await;
    let (a, b) = (d.unique_user(), d.unique_user());
    d.send_logins(&[
        json!({"user_id": a, "service_id": "svc-a", "service_name": MARKER, "timestamp": "2024-06-01T10:00:00Z"}),
    ])
    .await;
    eventually("A's login recorded", Duration::from_secs(60), || async {
        let (_, body) = d.get_json(&format!("/users/{a}/services"), &a).await;
        body.to_string().contains(MARKER).then_some(())
    })
    .await;

    let mut checked = 0;
    let mut leaks = Vec::new();
    for route in d.stack().routes() {
        let policy = EXPECTED
            .iter()
            .find(|(key, _)| *key == route.route_key)
            .map(|(_, p)| *p)
            .unwrap_or_else(|| panic!("route {} has no authz expectation in this test: add one", route.route_key));
        let (method, template) = route.route_key.split_once(' ').expect("METHOD /path");
        let path = fill(template, &a);
        assert_eq!(route.requires_jwt, policy != Policy::Public, "{}: JWT requirement differs", route.route_key);
        if policy == Policy::Public {
            continue;
        }
        // API Gateway answers bad credentials 401 on JWT routes, 403 on IAM routes.
        let refused: &[u16] = if matches!(policy, Policy::Iam(_)) { &[403] } else { &[401] };
        let mut wrong: Vec<(&str, Option<String>, &[u16])> = vec![
            ("no token", None, refused),
            ("expired token", Some(format!("Bearer {}", d.expired_token(&a))), refused),
            ("tampered token", Some(format!("Bearer {}", d.forged_token(&a))), refused),
            ("not a bearer token", Some("Basic YTpi".to_owned()), refused),
        ];
        match policy {
            Policy::Iam(principal) => {
                wrong.push(("a valid local token", Some(format!("Bearer {}", d.token(&a))), refused));
                let found = wrong_signers(&d, principal, method, &path).await;
                checked += 3;
                leaks.extend(found);
            }
            _ => wrong.push(("another user's token", Some(format!("Bearer {}", d.token(&b))), &[403, 404])),
        }
        if let Policy::Role(role) = policy {
            let other = if role == "auditor" { "requester" } else { "auditor" };
            let token = d.token_with_roles(&a, &[other]);
            wrong.push(("a token without the role", Some(format!("Bearer {token}")), &[403]));
        }
        for (what, auth, expected) in wrong {
            let (status, body) = call(&d, method, &path, auth).await;
            checked += 1;
            if !expected.contains(&status) || body.contains(MARKER) {
                leaks.push(format!("{} with {what}: {status} {body}", route.route_key));
            }
        }
        // The right caller does get through (so the 401/403s above mean something).
        let (status, body) = match policy {
            Policy::Iam(principal) => signed(&d, &d.signer(principal), method, &path).await,
            Policy::Role(role) => {
                call(&d, method, &path, Some(format!("Bearer {}", d.token_with_roles(&a, &[role])))).await
            }
            _ => call(&d, method, &path, Some(format!("Bearer {}", d.token(&a)))).await,
        };
        // A role or IAM route with no query or body is a 400: it got past authorisation.
        let through =
            status == 200 || status == 404 || (matches!(policy, Policy::Role(_) | Policy::Iam(_)) && status == 400);
        assert!(through, "{} as its owner: {status} {body}", route.route_key);
    }
    assert!(checked >= 15, "the matrix ran {checked} checks");
    assert!(leaks.is_empty(), "{} leak(s):\n  {}", leaks.len(), leaks.join("\n  "));
}
