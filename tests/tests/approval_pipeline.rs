//! Issue action approval (seed 002) through the real local stack: the approval API
//! behind the local HTTP API (IAM routes signed with SigV4 by the template's named
//! principals, `approval-service` and `approval-processor`; open approver routes), the step binaries on the local Lambda service, SNS fan-out, DynamoDB,
//! SES in the emulator (sent mail read back from it), the FIFO decisions queue, and
//! the on-prem action processor as a child process.
//!
//! The 200-trial race runs against the DynamoDB adapter on the emulator (real
//! conditional writes, real FIFO queue); the HTTP path gets its own, smaller race:
//! the local Lambda service runs one instance per function, so HTTP requests reach
//! the API one at a time and 1,000 of them would only measure the emulator.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use approvals::dynamo::keys as k;
use approvals::dynamo::DynamoApprovalStore;
use approvals::fifo::SqsDecisionQueue;
use approvals::ports::RequestStore;
use approvals::usecases::{decide, enqueue_decision, DecideAnswer, LinkRequest, Refusal};
use approvals::{ApprovalDecided, ApprovalRequest, Decision, NewRequest, Submission, Token};
use aws_sdk_dynamodb::types::AttributeValue;
use integration_tests::{bin_dir, eventually, function_binary, time_scale, Driver};
use kit::testing::RecordingPublisher;
use local_stack::{InvokeOutcome, SigV4Client, StackOptions};
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(60);
const FUNCTIONS: [&str; 5] =
    ["ApprovalApi", "SendApprovalEmails", "EnqueueDecision", "NotifyApprovers", "ApprovalSweeper"];

fn uid() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// The shipped configuration, retry waits (the outbox's re-publish delay among them)
/// compressed by the test time scale.
async fn start() -> Driver {
    let options = StackOptions::default().with_bin_dir(bin_dir()).with_time_scale(time_scale()).quiet();
    Driver::start_with(options).await
}

/// One sent email, as the emulator keeps it.
#[derive(Debug, Clone)]
struct SentEmail {
    to: Vec<String>,
    subject: String,
    body: String,
}

/// The approval API and SES, as the on-prem service and the approvers see them.
struct Approvals<'a> {
    d: &'a Driver,
    http: reqwest::Client,
    /// The on-prem service: signs as `approval-service`.
    service: SigV4Client,
}

impl<'a> Approvals<'a> {
    fn new(d: &'a Driver) -> Self {
        Self { d, http: kit::http::client().expect("http client"), service: d.signer("approval-service") }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.d.stack().http_url())
    }

    async fn create(&self, body: &Value) -> (u16, Value) {
        let r = self.service.post_json(&self.url("/approval-requests"), body).await.expect("POST /approval-requests");
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    async fn request(&self, id: &str, approvers: &[String]) -> String {
        let body = json!({
            "request_id": id, "issue_id": format!("INC-{id}"), "action": "restart-service",
            "action_parameters": {"service": "billing"}, "approvers": approvers, "expires_in_minutes": 30,
        });
        let (status, view) = self.create(&body).await;
        assert_eq!(status, 201, "{view}");
        id.to_owned()
    }

    async fn view(&self, id: &str) -> Value {
        let r = self
            .service
            .get(&self.url(&format!("/approval-requests/{id}")))
            .await
            .expect("GET /approval-requests/{id}");
        assert_eq!(r.status().as_u16(), 200);
        r.json().await.expect("JSON view")
    }

    async fn wait_for(&self, id: &str, what: &str, check: impl Fn(&Value) -> bool) -> Value {
        eventually(&format!("{id}: {what}"), WAIT, || async {
            let v = self.view(id).await;
            check(&v).then_some(v)
        })
        .await
    }

    /// `GET /approvals/{id}?token&action`: the page.
    async fn open(&self, id: &str, token: &str, action: &str) -> (u16, String) {
        let url = self.url(&format!("/approvals/{id}?token={token}&action={action}"));
        let r = self.http.get(url).send().await.expect("GET link");
        (r.status().as_u16(), r.text().await.unwrap_or_default())
    }

    /// `POST /approvals/{id}` as the page's form does.
    async fn answer(&self, id: &str, token: &str, action: &str) -> (u16, String) {
        let r = self
            .http
            .post(self.url(&format!("/approvals/{id}")))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("token={token}&action={action}"))
            .send()
            .await
            .expect("POST answer");
        (r.status().as_u16(), r.text().await.unwrap_or_default())
    }

    /// Every email the emulator's SES accepted (moto keeps them: `/moto-api/data.json`).
    async fn emails(&self) -> Vec<SentEmail> {
        let url = format!("{}/moto-api/data.json", self.d.stack().endpoint());
        let data: Value = self.http.get(url).send().await.expect("moto data").json().await.expect("JSON");
        data["ses"]["Message"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|m| SentEmail {
                to: m["destinations"]["ToAddresses"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|a| a.as_str().map(str::to_owned))
                    .collect(),
                subject: m["subject"].as_str().unwrap_or_default().to_owned(),
                body: m["body"].as_str().unwrap_or_default().to_owned(),
            })
            .collect()
    }

    /// Each approver's token for `id`, read from their approval email once all went out.
    async fn tokens(&self, id: &str, approvers: &[String]) -> BTreeMap<String, String> {
        eventually(&format!("approval emails for {id}"), WAIT, || async {
            let mut tokens = BTreeMap::new();
            for email in self.emails().await {
                if let Some(token) = token_in(&email.body, id) {
                    for to in email.to {
                        tokens.insert(to, token.clone());
                    }
                }
            }
            (approvers.iter().all(|a| tokens.contains_key(a))).then_some(tokens)
        })
        .await
    }
}

/// The token in an approval email's link for request `id`.
fn token_in(body: &str, id: &str) -> Option<String> {
    let marker = format!("/approvals/{id}?token=");
    let start = body.find(&marker)? + marker.len();
    let token = body.get(start..start + approvals::token::TOKEN_CHARS)?;
    Token::parse(token).ok().map(|_| token.to_owned())
}

fn approvers(n: usize) -> Vec<String> {
    let tag = uid();
    (0..n).map(|i| format!("approver{i}.{tag}@example.org")).collect()
}

/// Decision messages now on the FIFO queue, by request id (received and deleted).
async fn drain_decisions(d: &Driver) -> HashMap<String, Vec<Value>> {
    let mut out: HashMap<String, Vec<Value>> = HashMap::new();
    for m in d.receive_all(&d.queue_url("ApprovalDecisionsQueue")).await {
        let v: Value = serde_json::from_str(&m.body).expect("a JSON decision");
        out.entry(v["payload"]["request_id"].as_str().unwrap_or_default().to_owned()).or_default().push(v);
    }
    out
}

/// No line any approval function wrote holds a token or an approver's address.
fn assert_no_secrets_in_logs(logs: &[String], secrets: &[String]) {
    for line in logs {
        for s in secrets {
            assert!(!line.contains(s.as_str()), "a log line holds a token or an address: {line}");
        }
    }
}

// ---------------------------------------------------------------- the race, 200 trials

/// A stored request whose approvers have been emailed these tokens.
fn seeded(id: &str, n: usize) -> (ApprovalRequest, Vec<Token>) {
    let now = chrono::Utc::now();
    let sub: Submission = serde_json::from_value(json!({
        "request_id": id, "issue_id": "INC-race", "action": "restart-service",
        "approvers": approvers(n), "expires_in_minutes": 30,
    }))
    .expect("submission");
    let mut req = ApprovalRequest::new(&NewRequest::parse(sub, now).expect("valid"));
    let tokens: Vec<Token> = (0..n).map(|_| Token::generate().expect("random")).collect();
    for (a, t) in req.approvers.iter_mut().zip(&tokens) {
        a.token_hash = Some(t.hash().to_hex());
        a.emailed_at = Some(now);
    }
    (req, tokens)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_races_of_five_approvers_make_one_decision_and_one_fifo_message_each() {
    const TRIALS: usize = 200;
    const APPROVERS: usize = 5;
    let d = Driver::start_resources_only().await;
    let store = Arc::new(DynamoApprovalStore::new(d.dynamodb(), d.table("ApprovalsTable")));
    let fifo = Arc::new(SqsDecisionQueue::new(d.sqs(), d.queue_url("ApprovalDecisionsQueue")));
    let publisher = Arc::new(RecordingPublisher::default());

    // Seeded 25 at a time (BatchWriteItem): the race is what is measured.
    let seeded: Vec<(String, Vec<Token>)> = {
        let mut out = Vec::new();
        let mut batch = Vec::new();
        for n in 0..TRIALS {
            let id = format!("race-{n}-{}", uid());
            let (req, tokens) = seeded(&id, APPROVERS);
            let item =
                approvals::dynamo::item::to_item(&req, chrono::Duration::days(30), chrono::Utc::now()).expect("item");
            let put = aws_sdk_dynamodb::types::PutRequest::builder().set_item(Some(item)).build().expect("put");
            batch.push(aws_sdk_dynamodb::types::WriteRequest::builder().put_request(put).build());
            out.push((id, tokens));
            if batch.len() == 25 || n + 1 == TRIALS {
                let written = d
                    .dynamodb()
                    .batch_write_item()
                    .request_items(d.table("ApprovalsTable"), std::mem::take(&mut batch))
                    .send()
                    .await
                    .expect("BatchWriteItem");
                assert!(written.unprocessed_items().is_none_or(|u| u.is_empty()));
            }
        }
        out
    };
    let ids: Vec<String> = seeded.iter().map(|(id, _)| id.clone()).collect();
    let started = Instant::now();

    let mut set = tokio::task::JoinSet::new();
    for (n, (id, tokens)) in seeded.into_iter().enumerate() {
        let (store, fifo, publisher) = (store.clone(), fifo.clone(), publisher.clone());
        set.spawn(async move {
            // Five approvers at once, approving and rejecting.
            let attempts: Vec<_> = tokens
                .into_iter()
                .enumerate()
                .map(|(i, token)| {
                    let (store, publisher) = (store.clone(), publisher.clone());
                    let decision = if i % 2 == 0 { Decision::Approved } else { Decision::Rejected };
                    let link = LinkRequest { request_id: id.clone(), token, decision };
                    tokio::spawn(async move {
                        let now = chrono::Utc::now();
                        decide(store.as_ref(), publisher.as_ref(), &link, "race", now, chrono::Duration::minutes(2))
                            .await
                    })
                })
                .collect();
            let mut winners = Vec::new();
            for a in attempts {
                match a.await.expect("joined").expect("no store error") {
                    DecideAnswer::Decided { decision, .. } => winners.push(decision),
                    DecideAnswer::Refused(Refusal::Decided { .. }) => {}
                    other => panic!("{id}: unexpected answer {other:?}"),
                }
            }
            assert_eq!(winners.len(), 1, "{id}: exactly one decision wins");
            // The announcement, as enqueue-decision gets it; every fourth one delivered
            // twice at once (twin deliveries): still one FIFO message.
            let event = ApprovalDecided { request_id: id.clone(), decision: winners[0] };
            let once = enqueue_decision(store.as_ref(), fifo.as_ref(), event.clone(), "race", chrono::Utc::now());
            if n % 4 == 0 {
                let twin = enqueue_decision(store.as_ref(), fifo.as_ref(), event, "race", chrono::Utc::now());
                let (a, b) = tokio::join!(once, twin);
                a.expect("enqueued");
                b.expect("enqueued");
            } else {
                once.await.expect("enqueued");
            }
            winners[0]
        });
        // At most 10 trials in flight: the emulator serialises DynamoDB anyway.
        while set.len() >= 10 {
            set.join_next().await.expect("a trial").expect("trial passed");
        }
    }
    while let Some(t) = set.join_next().await {
        t.expect("trial passed");
    }
    let raced = started.elapsed();

    let on_queue = drain_decisions(&d).await;
    assert_eq!(publisher.of_type("approval.decided").len(), TRIALS, "one announcement per request");
    for id in &ids {
        let messages = on_queue.get(id).map(Vec::len).unwrap_or(0);
        assert_eq!(messages, 1, "{id}: one FIFO message");
        let stored = store.get(id).await.expect("read").expect("exists");
        let decision = stored.decision.as_ref().expect("decided");
        assert_eq!(stored.status, decision.decision.status());
        assert!(stored.decision_enqueued_at.is_some());
        let used = stored.approvers.iter().filter(|a| a.used_at.is_some()).count();
        let revoked = stored.approvers.iter().filter(|a| a.revoked_at.is_some()).count();
        assert_eq!((used, revoked), (1, APPROVERS - 1), "{id}: the winner's token used, every other revoked");
        let decisions = stored.history.iter().filter(|h| h.event == "APPROVED" || h.event == "REJECTED").count();
        assert_eq!(decisions, 1, "{id}: one decision in the history");
    }
    assert_eq!(on_queue.len(), TRIALS, "nothing else on the queue");
    println!("{TRIALS} races of {APPROVERS} approvers on the emulator: {raced:?}");
}

// ---------------------------------------------------------------- end to end over HTTP

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn requests_are_emailed_decided_once_over_http_queued_once_and_the_others_told() {
    let d = start().await;
    let api = Approvals::new(&d);

    // The service routes need a SigV4 signature: unsigned, or with a local token, 403.
    let anonymous = api.http.post(api.url("/approval-requests")).json(&json!({})).send().await.unwrap();
    assert_eq!(anonymous.status().as_u16(), 403);
    assert_eq!(anonymous.json::<Value>().await.unwrap(), json!({"message": "Forbidden"}));
    let bearer =
        api.http.post(api.url("/approval-requests")).bearer_auth(d.token("onprem-monitoring")).json(&json!({}));
    assert_eq!(bearer.send().await.unwrap().status().as_u16(), 403, "a local JWT is no IAM signature");
    let forged = api.service.with_secret("not-the-secret");
    let r = forged.post_json(&api.url("/approval-requests"), &json!({})).await.unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let message = r.json::<Value>().await.unwrap()["message"].as_str().unwrap_or_default().to_owned();
    assert!(message.starts_with("The request signature we calculated does not match"), "{message}");
    iam_refusals(&d).await;

    const REQUESTS: usize = 4;
    let mut requests = Vec::new();
    for _ in 0..REQUESTS {
        let people = approvers(5);
        let id = api.request(&format!("e2e-{}", uid()), &people).await;
        requests.push((id, people));
    }
    let mut secrets: Vec<String> = Vec::new();
    let mut tokens = Vec::new();
    for (id, people) in &requests {
        let t = api.tokens(id, people).await;
        secrets.extend(t.values().cloned());
        secrets.extend(people.iter().cloned());
        tokens.push(t);
    }

    // Opening a link shows a page and changes nothing (mail scanners prefetch links).
    let (first_id, first_people) = &requests[0];
    let first_token = &tokens[0][&first_people[0]];
    let (status, page) = api.open(first_id, first_token, "approve").await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("<form method=\"post\""));
    assert_eq!(api.view(first_id).await["status"], "PENDING");

    // Five approvers answer each request at once.
    let mut winners: HashMap<String, (String, Decision)> = HashMap::new();
    for ((id, people), t) in requests.iter().zip(&tokens) {
        let answers: Vec<_> = people
            .iter()
            .enumerate()
            .map(|(i, person)| {
                let (token, action) = (t[person].clone(), if i % 2 == 0 { "approve" } else { "reject" });
                let (url, http, id) = (api.url(&format!("/approvals/{id}")), api.http.clone(), id.clone());
                let person = person.clone();
                tokio::spawn(async move {
                    let r = http
                        .post(url)
                        .header("content-type", "application/x-www-form-urlencoded")
                        .body(format!("token={token}&action={action}"))
                        .send()
                        .await
                        .expect("POST");
                    (person, action, r.status().as_u16(), r.text().await.unwrap_or_default(), id)
                })
            })
            .collect();
        let mut ok = 0;
        for a in answers {
            let (person, action, status, page, id) = a.await.unwrap();
            match status {
                200 => {
                    ok += 1;
                    let decision = if action == "approve" { Decision::Approved } else { Decision::Rejected };
                    winners.insert(id, (person, decision));
                }
                409 => assert!(page.contains("already"), "{page}"),
                other => panic!("{id}: unexpected {other}: {page}"),
            }
        }
        assert_eq!(ok, 1, "{id}: exactly one decision");
    }

    // Exactly one FIFO message per request, once each decision is recorded as queued.
    for (id, _) in &requests {
        api.wait_for(id, "decision enqueued", |v| v["decision_enqueued_at"].is_string()).await;
    }
    let on_queue = drain_decisions(&d).await;
    for (id, _) in &requests {
        let messages = &on_queue[id];
        assert_eq!(messages.len(), 1, "{id}: one FIFO message");
        let expected = winners[id].1.as_str();
        assert_eq!(messages[0]["payload"]["decision"], expected);
        assert_eq!(messages[0]["type"], "approval.decision");
    }

    // Everyone but the decider is told, once, how (not who) it was decided.
    for (id, people) in &requests {
        let (decider, decision) = winners[id].clone();
        let word = if decision == Decision::Approved { "Approved" } else { "Rejected" };
        let issue = format!("issue INC-{id}");
        let notices = eventually(&format!("{id}: the others notified"), WAIT, || async {
            let notices: Vec<SentEmail> = api
                .emails()
                .await
                .into_iter()
                .filter(|e| e.subject.starts_with(word) && e.subject.ends_with(&issue))
                .collect();
            (notices.len() >= people.len() - 1).then_some(notices)
        })
        .await;
        assert_eq!(notices.len(), people.len() - 1);
        assert!(notices.iter().all(|n| !n.to.contains(&decider) && !n.body.contains(&decider)), "not who");
        let view = api.wait_for(id, "notified", |v| v["approvers"]["notified"] == 4).await;
        assert_eq!(view["approvers"]["revoked"], 4);
        assert_eq!(view["status"], decision.as_str());
        let events: Vec<&str> =
            view["history"].as_array().unwrap().iter().filter_map(|h| h["event"].as_str()).collect();
        assert_eq!(events.iter().filter(|e| **e == decision.as_str()).count(), 1, "{events:?}");
        assert!(!view.to_string().contains("@example.org"), "the view names nobody: {view}");
    }

    // A reused token, and a token for another request.
    let (id0, people0) = &requests[0];
    let (winner0, _) = &winners[id0];
    let (status, page) = api.answer(id0, &tokens[0][winner0], "approve").await;
    assert!(status == 409 || status == 410, "reused token: {status} {page}");
    let (id1, _) = &requests[1];
    let (status, _) = api.answer(id1, &tokens[0][&people0[1]], "approve").await;
    assert!(status == 400 || status == 410, "a token for another request: {status}");
    let (status, _) = api.answer(id1, "not-a-token", "approve").await;
    assert_eq!(status, 400, "malformed");

    // Expired: the item is still there (TTL lags), the token is still the right one.
    let people = approvers(2);
    let expiring = api.request(&format!("expiring-{}", uid()), &people).await;
    let t = api.tokens(&expiring, &people).await;
    secrets.extend(t.values().cloned());
    secrets.extend(people.iter().cloned());
    expire_now(&d, &expiring).await;
    let (status, page) = api.open(&expiring, &t[&people[0]], "approve").await;
    assert_eq!(status, 410, "{page}");
    let (status, page) = api.answer(&expiring, &t[&people[1]], "reject").await;
    assert_eq!(status, 410, "{page}");
    let view = api.view(&expiring).await;
    assert_eq!(view["status"], "EXPIRED", "the item still exists, shown as expired");
    assert!(view.get("decision").is_none());

    // The API's publish fails right after its decision write (SNS down, or the API
    // crashed there): the decision stands, and the sweep announces it later.
    let people = approvers(2);
    let lost = api.request(&format!("lost-{}", uid()), &people).await;
    let t = api.tokens(&lost, &people).await;
    secrets.extend(t.values().cloned());
    secrets.extend(people.iter().cloned());
    // Three: the API makes every attempt its SDK allows (AWS_MAX_ATTEMPTS 3).
    d.inject_fault("Publish", 3, 500, "InternalError").await;
    let (status, page) = api.answer(&lost, &t[&people[0]], "approve").await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(d.remaining_faults().await, 0, "the announcement was lost");
    assert!(api.view(&lost).await["decision_enqueued_at"].is_null());
    eventually("the sweep repaired the lost announcement", WAIT, || async {
        let swept = d.stack().invoke("ApprovalSweeper", json!({})).await;
        assert!(swept.is_ok_and(|o| o.is_ok()), "the sweep ran");
        api.view(&lost).await["decision_enqueued_at"].is_string().then_some(())
    })
    .await;
    assert_eq!(drain_decisions(&d).await.get(&lost).map(Vec::len), Some(1), "one FIFO message");

    // Nothing any approval function logged holds a token or an address.
    let logs: Vec<String> = FUNCTIONS.iter().flat_map(|f| d.function_logs(f)).collect();
    assert!(logs.iter().any(|l| l.contains("decision recorded")), "the API logs its decisions");
    assert_no_secrets_in_logs(&logs, &secrets);
}

// ---------------------------------------------------------------- addresses SES refuses

/// An address the API accepts but SES refuses for good: the emulator, as SES does
/// for an address it cannot parse, answers `InvalidParameterValue` ("Missing domain").
fn refused_address(tag: &str) -> String {
    format!("refused;{tag}@example.org")
}

/// The request item's raw attribute, if it has it.
async fn raw_attribute(d: &Driver, id: &str, name: &str) -> Option<AttributeValue> {
    let item = d
        .dynamodb()
        .get_item()
        .table_name(d.table("ApprovalsTable"))
        .key(k::REQUEST_ID, AttributeValue::S(id.to_owned()))
        .consistent_read(true)
        .send()
        .await
        .expect("GetItem")
        .item
        .expect("the request item");
    item.get(name).cloned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_address_ses_refuses_is_undeliverable_the_others_are_emailed_and_a_request_nobody_can_get_ends() {
    let d = start().await;
    let api = Approvals::new(&d);
    let tag = uid();

    // Nobody can be emailed: the request ends UNDELIVERABLE, no dead letter, and the
    // sweep has nothing left to re-announce for it.
    let nobody = vec![refused_address(&format!("a{tag}")), refused_address(&format!("b{tag}"))];
    let all = api.request(&format!("all-refused-{tag}"), &nobody).await;
    let view = api.wait_for(&all, "undeliverable", |v| v["status"] == "UNDELIVERABLE").await;
    assert_eq!(view["approvers"]["undeliverable"], 2, "{view}");
    assert_eq!(view["approvers"]["emailed"], 0, "{view}");
    assert!(raw_attribute(&d, &all, k::OUTBOX).await.is_none(), "no announcement left for the sweep");
    let swept = d.stack().invoke("ApprovalSweeper", json!({})).await;
    assert!(swept.is_ok_and(|o| o.is_ok()), "the sweep ran");
    assert_eq!(api.view(&all).await["status"], "UNDELIVERABLE", "final");

    // The second of three is refused: the first and the third get their links.
    let good = [format!("first.{tag}@example.org"), format!("third.{tag}@example.org")];
    let people = vec![good[0].clone(), refused_address(&tag), good[1].clone()];
    let one = api.request(&format!("one-refused-{tag}"), &people).await;
    let tokens = api.tokens(&one, &good).await;
    let view = api.wait_for(&one, "emails done", |v| v["history"].to_string().contains("approvers_emailed")).await;
    assert_eq!(view["status"], "PENDING", "{view}");
    assert_eq!(view["approvers"]["emailed"], 2, "{view}");
    assert_eq!(view["approvers"]["undeliverable"], 1, "{view}");
    assert!(!view.to_string().contains("@example.org"), "the view names nobody: {view}");
    let sent_to_refused = api.emails().await.iter().filter(|e| e.to.iter().any(|t| t.starts_with("refused;"))).count();
    assert_eq!(sent_to_refused, 0);
    let (status, page) = api.answer(&one, &tokens[&good[1]], "approve").await;
    assert_eq!(status, 200, "the others decide as usual: {page}");

    // Neither request left anything in the email step's DLQ; the logs name nobody.
    assert!(d.receive_all(&d.queue_url("SendApprovalEmailsDlq")).await.is_empty(), "no dead letters");
    let logs = d.function_logs("SendApprovalEmails");
    assert!(logs.iter().any(|l| l.contains("undeliverable")), "the refusal is logged");
    let mut secrets: Vec<String> = nobody.into_iter().chain(people).collect();
    secrets.extend(tokens.into_values());
    assert_no_secrets_in_logs(&logs, &secrets);
}

// ---------------------------------------------------------------- the sweep's order

/// During an SES outage the email announcements pile up in the outbox; a lost
/// decision announcement must not wait behind them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_due_decision_is_repaired_in_the_first_sweep_behind_more_than_a_sweeps_worth_of_requests() {
    let d = Driver::start_resources_only().await;
    let store = DynamoApprovalStore::new(d.dynamodb(), d.table("ApprovalsTable"));
    let publisher = RecordingPublisher::default();
    let now = chrono::Utc::now();
    let due = now - chrono::Duration::minutes(5);
    for n in 0..101 {
        let sub: Submission = serde_json::from_value(json!({
            "request_id": format!("waiting-{n}-{}", uid()), "issue_id": "INC-outage", "action": "restart-service",
            "approvers": approvers(1), "expires_in_minutes": 30,
        }))
        .expect("submission");
        let req = ApprovalRequest::new(&NewRequest::parse(sub, now).expect("valid"));
        store.create(&req, due).await.expect("stored");
    }
    // A decision whose announcement was lost (SNS failed), due after all of them.
    let id = format!("decided-{}", uid());
    let (req, tokens) = seeded(&id, 2);
    store.create(&req, due).await.expect("stored");
    approvals::ports::Outbox::clear(&store, &id, approvals::state::OutboxEvent::Requested).await.expect("emailed");
    publisher.fail_next(1);
    let link = LinkRequest { request_id: id.clone(), token: tokens[0].clone(), decision: Decision::Approved };
    let answer = decide(&store, &publisher, &link, "c", now, chrono::Duration::zero()).await.expect("decided");
    assert!(matches!(answer, DecideAnswer::Decided { .. }), "{answer:?}");
    assert!(publisher.of_type("approval.decided").is_empty(), "the announcement was lost");

    let report = approvals::usecases::sweep(
        &store,
        &publisher,
        now + chrono::Duration::seconds(1),
        chrono::Duration::minutes(5),
        100,
    )
    .await
    .expect("swept");
    assert_eq!(report.republished, 100, "{report:?}");
    let decided = publisher.of_type("approval.decided");
    assert_eq!(decided.len(), 1, "the decision is repaired in the first sweep");
    assert_eq!(decided[0]["payload"]["request_id"], id.as_str());
}

/// A principal whose policy does not allow a route is refused by API Gateway, naming
/// the action and the route's ARN; past API Gateway, approval-api admits only each
/// route's principals (what it sees when another role holds the route's policy).
async fn iam_refusals(d: &Driver) {
    let ctx = d.stack().context();
    let (region, account) = (&ctx.region, &ctx.account_id);
    let processor = d.signer("approval-processor");
    let r = processor.get(&format!("{}/approval-requests/nope", d.stack().http_url())).await.unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["Message"],
        format!(
            "User: arn:aws:sts::{account}:assumed-role/approval-processor/local is not authorized to perform: \
             execute-api:Invoke on resource: arn:aws:execute-api:{region}:{account}:local/$default/GET/approval-requests/nope \
             because no identity-based policy allows the execute-api:Invoke action"
        )
    );

    // The execution route as API Gateway would pass it on, from each role's session.
    let fixture =
        std::fs::read_to_string(integration_tests::workspace_root().join("events/approval-api/create-request.json"))
            .expect("the create fixture");
    let execution = |role: &str| {
        let mut e: Value = serde_json::from_str(&fixture).expect("JSON");
        let path = "/approval-requests/nope/execution";
        e["rawPath"] = path.into();
        e["routeKey"] = "POST /approval-requests/{request_id}/execution".into();
        e["requestContext"]["routeKey"] = e["routeKey"].clone();
        e["requestContext"]["http"]["path"] = path.into();
        e["pathParameters"] = json!({"request_id": "nope"});
        e["requestContext"]["accountId"] = account.as_str().into();
        e["requestContext"]["authorizer"]["iam"]["accountId"] = account.as_str().into();
        e["requestContext"]["authorizer"]["iam"]["userArn"] =
            format!("arn:aws:sts::{account}:assumed-role/{role}/local").into();
        e["body"] = json!({"state": "EXECUTING", "attempt_id": "a1"}).to_string().into();
        e
    };
    let answer = |outcome| match outcome {
        Ok(InvokeOutcome::Ok(v)) => {
            let body: Value = serde_json::from_str(v["body"].as_str().unwrap_or("null")).unwrap_or(Value::Null);
            (v["statusCode"].as_u64().unwrap_or_default(), body)
        }
        other => panic!("approval-api did not answer: {other:?}"),
    };
    let (status, body) = answer(d.stack().invoke("ApprovalApi", execution("approval-service")).await);
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"], "caller_not_allowed");
    let (status, body) = answer(d.stack().invoke("ApprovalApi", execution("approval-processor")).await);
    assert_eq!(status, 404, "the processor gets through (to an unknown request): {body}");
    // The code the processor needs to tell this from a gateway's bare 404 (issue 14).
    assert_eq!(body["error"], "request_not_found", "{body}");
}

/// Moves a request's expiry into the past, leaving the item (and its tokens) in place.
async fn expire_now(d: &Driver, id: &str) {
    let past = chrono::Utc::now() - chrono::Duration::seconds(1);
    d.dynamodb()
        .update_item()
        .table_name(d.table("ApprovalsTable"))
        .key(k::REQUEST_ID, AttributeValue::S(id.to_owned()))
        .update_expression("SET #ms = :ms, #at = :at")
        .expression_attribute_names("#ms", k::EXPIRES_AT_MS)
        .expression_attribute_names("#at", "expires_at")
        .expression_attribute_values(":ms", AttributeValue::N(past.timestamp_millis().to_string()))
        .expression_attribute_values(":at", AttributeValue::S(past.to_rfc3339()))
        .send()
        .await
        .expect("expiry moved");
}

// ---------------------------------------------------------------- the on-prem processor

/// The processor as a child process, with its output kept.
struct Processor {
    child: tokio::process::Child,
    output: Arc<std::sync::Mutex<Vec<String>>>,
}

impl Processor {
    fn start(d: &Driver, script: &Path) -> Self {
        Self::start_with(d, script, &d.stack().http_url(), &[])
    }

    /// With the approval API at `api_url` (the local HTTP API, or a relay to it) and
    /// `env` on top of the usual settings.
    fn start_with(d: &Driver, script: &Path, api_url: &str, env: &[(&str, &str)]) -> Self {
        let (key, secret) = d.stack().principal_credentials("approval-processor").expect("the processor's principal");
        let mut child = tokio::process::Command::new(function_binary("action-processor"))
            .env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            // The processor's own role, for SQS (checked by the AWS proxy against
            // ApprovalProcessorPolicy) and for the API's IAM routes (SigV4).
            .env("AWS_ENDPOINT_URL", d.stack().proxy_endpoint())
            .env("AWS_REGION", &d.stack().context().region)
            .env("AWS_ACCESS_KEY_ID", &key)
            .env("AWS_SECRET_ACCESS_KEY", &secret)
            .env("DECISIONS_QUEUE_URL", d.queue_url("ApprovalDecisionsQueue"))
            .env("APPROVAL_API_URL", api_url)
            .env("APPROVAL_API_AUTH", "sigv4")
            .env("EXECUTOR", "command")
            .env("EXECUTOR_COMMAND", script)
            // Kept across a restart, as on a host: outcomes wait here until reported.
            .env("STATE_DIR", script.with_file_name("state"))
            // The processor's own retry waits, compressed like every function's.
            .env(kit::retry::TIME_SCALE_VAR, integration_tests::TIME_SCALE.to_string())
            .env("VISIBILITY_TIMEOUT_SECS", "2")
            .env("WAIT_TIME_SECS", "1")
            .env("SHUTDOWN_GRACE_SECS", "5")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("the processor starts");
        let output = Arc::new(std::sync::Mutex::new(Vec::new()));
        for stream in [
            child.stdout.take().map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Unpin + Send>),
            child.stderr.take().map(|s| Box::new(s) as _),
        ]
        .into_iter()
        .flatten()
        {
            let output = output.clone();
            tokio::spawn(async move {
                use tokio::io::AsyncBufReadExt;
                let mut lines = tokio::io::BufReader::new(stream).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    output.lock().unwrap_or_else(|p| p.into_inner()).push(line);
                }
            });
        }
        Self { child, output }
    }

    fn lines(&self) -> Vec<String> {
        self.output.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn signal(&self, signal: &str) {
        let pid = self.child.id().expect("running").to_string();
        let status = std::process::Command::new("kill").args([signal, &pid]).status().expect("kill");
        assert!(status.success());
    }
}

/// The action: appends `start <id>` to the marker, works (slowly for `slow-restart`;
/// until the file `go` appears beside the marker for `gated-restart`), appends
/// `end <id>`, prints what it did.
fn action_script(dir: &Path) -> (PathBuf, PathBuf) {
    let marker = dir.join("marker");
    let script = dir.join("action.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\ncat > /dev/null\necho \"start $APPROVAL_REQUEST_ID\" >> {m}\n\
             if [ \"$APPROVAL_ACTION\" = slow-restart ]; then sleep 3; fi\n\
             if [ \"$APPROVAL_ACTION\" = gated-restart ]; then while [ ! -f {go} ]; do sleep 0.05; done; fi\n\
             echo \"end $APPROVAL_REQUEST_ID\" >> {m}\necho \"restarted for $APPROVAL_ISSUE_ID\"\n",
            m = marker.display(),
            go = dir.join("go").display()
        ),
    )
    .expect("script written");
    let status = std::process::Command::new("chmod").args(["+x"]).arg(&script).status().expect("chmod");
    assert!(status.success());
    (script, marker)
}

fn marker_lines(marker: &Path, line: &str) -> usize {
    std::fs::read_to_string(marker).unwrap_or_default().lines().filter(|l| *l == line).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_processor_runs_an_action_at_most_once_across_a_crash_and_stops_cleanly() {
    let d = start().await;
    let api = Approvals::new(&d);
    let dir = std::env::temp_dir().join(format!("approval-processor-{}", uid()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (script, marker) = action_script(&dir);

    // A slow action, approved.
    let people = approvers(2);
    let slow = format!("slow-{}", uid());
    let body = json!({
        "request_id": slow, "issue_id": "INC-slow", "action": "slow-restart",
        "action_parameters": {"service": "billing"}, "approvers": people, "expires_in_minutes": 30,
    });
    assert_eq!(api.create(&body).await.0, 201);
    let t = api.tokens(&slow, &people).await;
    assert_eq!(api.answer(&slow, &t[&people[0]], "approve").await.0, 200);

    // The processor starts it, and is killed mid-action.
    let mut first = Processor::start(&d, &script);
    eventually("the action started", WAIT, || async {
        (marker_lines(&marker, &format!("start {slow}")) == 1).then_some(())
    })
    .await;
    let executing = api.view(&slow).await;
    assert_eq!(executing["status"], "EXECUTING", "recorded before the action: {executing}");
    first.signal("-KILL");
    let _ = first.child.wait().await;

    // The redelivery finds the interrupted attempt: FAILED, not run again.
    let second = Processor::start(&d, &script);
    let failed = api.wait_for(&slow, "interrupted", |v| v["status"] == "FAILED").await;
    assert!(failed["execution"]["output"].as_str().unwrap_or_default().starts_with("interrupted"), "{failed}");
    // The killed run's orphaned command finishes by itself; still one run.
    eventually("the orphaned run ended", WAIT, || async {
        (marker_lines(&marker, &format!("end {slow}")) == 1).then_some(())
    })
    .await;
    assert_eq!(marker_lines(&marker, &format!("start {slow}")), 1, "the action ran once");

    // A normal approval runs once and is recorded EXECUTED with its output; a rejection
    // is recorded and not run.
    let quick = api.request(&format!("quick-{}", uid()), &people).await;
    let rejected = api.request(&format!("rejected-{}", uid()), &people).await;
    let tq = api.tokens(&quick, &people).await;
    let tr = api.tokens(&rejected, &people).await;
    assert_eq!(api.answer(&quick, &tq[&people[1]], "approve").await.0, 200);
    assert_eq!(api.answer(&rejected, &tr[&people[0]], "reject").await.0, 200);
    let done = api.wait_for(&quick, "executed", |v| v["status"] == "EXECUTED").await;
    assert!(
        done["execution"]["output"].as_str().unwrap_or_default().contains(&format!("restarted for INC-{quick}")),
        "{done}"
    );
    api.wait_for(&rejected, "rejection recorded", |v| v["rejection_recorded_at"].is_string()).await;
    assert_eq!(api.view(&rejected).await["status"], "REJECTED");
    assert_eq!(marker_lines(&marker, &format!("start {quick}")), 1);
    assert_eq!(marker_lines(&marker, &format!("start {rejected}")), 0, "a rejection is not executed");

    // SIGTERM: it stops polling and exits cleanly; nothing is left on the queues.
    let mut second = second;
    second.signal("-TERM");
    let status =
        tokio::time::timeout(Duration::from_secs(15), second.child.wait()).await.expect("exits").expect("status");
    assert!(status.success(), "{status}");
    assert!(second.lines().iter().any(|l| l.contains("stop signal received")));
    assert_eq!(local_stack::queues::depth(&d.sqs(), &d.queue_url("ApprovalDecisionsQueue")).await.unwrap(), 0);
    assert_eq!(local_stack::queues::depth(&d.sqs(), &d.queue_url("ApprovalDecisionsDlq")).await.unwrap(), 0);

    let mut secrets: Vec<String> = people.clone();
    secrets.extend(t.values().cloned());
    secrets.extend(tq.values().cloned());
    secrets.extend(tr.values().cloned());
    let mut logs: Vec<String> = FUNCTIONS.iter().flat_map(|f| d.function_logs(f)).collect();
    logs.extend(first.lines());
    logs.extend(second.lines());
    assert_no_secrets_in_logs(&logs, &secrets);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A TCP relay to the local HTTP API that can be cut, as a network outage cuts the
/// on-prem host off from the API: while down, new connections are closed at once
/// and open ones dropped. Bytes pass untouched, so SigV4 still verifies.
struct Relay {
    url: String,
    up: tokio::sync::watch::Sender<bool>,
}

impl Relay {
    async fn start(upstream: &str) -> Self {
        let target = upstream.trim_start_matches("http://").trim_end_matches('/').to_owned();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("the relay listens");
        let url = format!("http://{}", listener.local_addr().expect("its address"));
        let (up, watch) = tokio::sync::watch::channel(true);
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let (mut watch, target) = (watch.clone(), target.clone());
                tokio::spawn(async move {
                    if !*watch.borrow() {
                        return;
                    }
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await else { return };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = watch.wait_for(|up| !*up) => {}
                    }
                });
            }
        });
        Self { url, up }
    }

    fn set(&self, up: bool) {
        self.up.send_replace(up);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_outcome_unreported_when_the_processor_crashed_is_reported_after_its_restart_not_interrupted() {
    let d = start().await;
    let api = Approvals::new(&d);
    let dir = std::env::temp_dir().join(format!("approval-processor-{}", uid()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (script, marker) = action_script(&dir);
    let relay = Relay::start(&d.stack().http_url()).await;

    let people = approvers(1);
    let id = format!("gated-{}", uid());
    let body = json!({
        "request_id": id, "issue_id": "INC-gated", "action": "gated-restart",
        "action_parameters": {"service": "billing"}, "approvers": people, "expires_in_minutes": 30,
    });
    assert_eq!(api.create(&body).await.0, 201);
    let t = api.tokens(&id, &people).await;
    assert_eq!(api.answer(&id, &t[&people[0]], "approve").await.0, 200);

    // The processor begins the action; the host loses the API while it runs.
    let mut first = Processor::start_with(&d, &script, &relay.url, &[]);
    eventually("the action started", WAIT, || async {
        (marker_lines(&marker, &format!("start {id}")) == 1).then_some(())
    })
    .await;
    relay.set(false);
    std::fs::write(dir.join("go"), b"").expect("the action may finish");
    // It finished, and its report cannot get through; then the processor dies.
    eventually("the report fails", WAIT, || async {
        first.lines().iter().any(|l| l.contains("the approval API is unavailable")).then_some(())
    })
    .await;
    first.signal("-KILL");
    let _ = first.child.wait().await;
    assert_eq!(marker_lines(&marker, &format!("end {id}")), 1, "the action ran to its end");
    assert_eq!(api.view(&id).await["status"], "EXECUTING", "its outcome never reached the API");

    // The API is reachable again and the processor restarts: the redelivered decision
    // reports the outcome kept on disk, with the action's own output.
    relay.set(true);
    let mut second = Processor::start_with(&d, &script, &relay.url, &[]);
    let done = api.wait_for(&id, "an outcome", |v| v["status"] != "EXECUTING").await;
    assert_eq!(done["status"], "EXECUTED", "not interrupted: {done}");
    assert_eq!(done["execution"]["output"].as_str().unwrap_or_default().trim(), "restarted for INC-gated", "{done}");
    assert_eq!(marker_lines(&marker, &format!("start {id}")), 1, "the action ran once");
    eventually("the restart says what it reported", WAIT, || async {
        second.lines().iter().any(|l| l.contains("reporting the outcome kept on disk")).then_some(())
    })
    .await;
    eventually("the kept outcome is forgotten", WAIT, || async {
        (!dir.join("state").join(format!("{id}.json")).exists()).then_some(())
    })
    .await;

    second.signal("-TERM");
    let status =
        tokio::time::timeout(Duration::from_secs(15), second.child.wait()).await.expect("exits").expect("status");
    assert!(status.success(), "{status}");
    assert_eq!(local_stack::queues::depth(&d.sqs(), &d.queue_url("ApprovalDecisionsQueue")).await.unwrap(), 0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_decision_received_twice_in_one_receive_runs_once_and_keeps_its_outcome() {
    let d = start().await;
    let api = Approvals::new(&d);
    let dir = std::env::temp_dir().join(format!("approval-processor-{}", uid()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (script, marker) = action_script(&dir);

    let people = approvers(1);
    let id = format!("twice-{}", uid());
    let body = json!({
        "request_id": id, "issue_id": "INC-twice", "action": "slow-restart",
        "action_parameters": {"service": "billing"}, "approvers": people, "expires_in_minutes": 30,
    });
    assert_eq!(api.create(&body).await.0, 201);
    let t = api.tokens(&id, &people).await;
    assert_eq!(api.answer(&id, &t[&people[0]], "approve").await.0, 200);
    api.wait_for(&id, "the decision is queued", |v| v["decision_enqueued_at"].is_string()).await;
    // Its re-announcement after SQS's 5-minute deduplication window: the same
    // decision, the same group, a deduplication id SQS no longer remembers.
    let again = json!({
        "type": "approval.decision", "version": 1, "id": format!("approval.decision:{id}"), "workflow_id": id,
        "correlation_id": "again", "occurred_at": chrono::Utc::now().to_rfc3339(),
        "payload": {"request_id": id, "decision": "APPROVED", "decided_at": chrono::Utc::now().to_rfc3339()},
    });
    d.sqs()
        .send_message()
        .queue_url(d.queue_url("ApprovalDecisionsQueue"))
        .message_body(again.to_string())
        .message_group_id(&id)
        .message_deduplication_id(format!("{id}-again"))
        .send()
        .await
        .expect("re-announced");

    // Two messages in hand at once: one receive hands out both.
    let mut processor = Processor::start_with(&d, &script, &d.stack().http_url(), &[("MAX_IN_FLIGHT", "2")]);
    eventually("the queue is empty", WAIT, || async {
        let depth = local_stack::queues::depth(&d.sqs(), &d.queue_url("ApprovalDecisionsQueue")).await.unwrap();
        (depth == 0).then_some(())
    })
    .await;
    let done = api.view(&id).await;
    assert_eq!(done["status"], "EXECUTED", "not interrupted: {done}");
    assert_eq!(done["execution"]["output"].as_str().unwrap_or_default().trim(), "restarted for INC-twice", "{done}");
    assert_eq!(marker_lines(&marker, &format!("start {id}")), 1, "the action ran once");
    assert!(
        processor.lines().iter().any(|l| l.contains("waiting for the message before it in its group")),
        "both were in hand together, the second waited its turn"
    );

    processor.signal("-TERM");
    let status =
        tokio::time::timeout(Duration::from_secs(15), processor.child.wait()).await.expect("exits").expect("status");
    assert!(status.success(), "{status}");
    let _ = std::fs::remove_dir_all(&dir);
}
