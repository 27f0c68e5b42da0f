//! The call recording leakage detector (seed 003) through the real pipeline: the
//! log subscription's payload invoked on ingest-connect-logs, the sweep invoked on
//! demand (as the schedule would), poll-contact against the Connect fake,
//! check-recording against the recording bucket in the emulator, the alert topic,
//! and the contacts API.

use std::time::Duration;

use contacts::dynamo::DynamoContactStore;
use contacts::ports::ContactStore;
use contacts::{Contact, ContactId, ContactState, RecordingState};
use integration_tests::{bin_dir, connect_logs, eventually, time_scale, Driver};
use local_stack::{InvokeOutcome, StackOptions, TokenRequest};
use serde_json::{json, Value};

/// poll-contact paces its DescribeContact calls (one a second here, its share of
/// the shipped 2 a second), so a sweep of a dozen contacts takes a dozen seconds.
const WAIT: Duration = Duration::from_secs(60);
const INSTANCE: &str = "5e7c0a11-0003-4003-8003-00000000c0a1";
const PREFIX: &str = "connect/test/CallRecordings";
const STEP_QUEUES: [&str; 2] = ["PollContactQueue", "CheckRecordingQueue"];
/// The fake's made-up customer number: it must never reach a log line.
const CUSTOMER_NUMBER: &str = "7700900123";

struct Contacts {
    d: Driver,
    http: reqwest::Client,
    connect: String,
    store: DynamoContactStore,
}

fn new_id() -> ContactId {
    ContactId::parse(&uuid::Uuid::new_v4().to_string()).expect("uuid")
}

fn recording_line(id: &ContactId) -> Value {
    connect_logs::recording_line(INSTANCE, id)
}

/// CloudWatch Logs' subscription payload for these contacts' recording lines, plus
/// another block's line.
fn delivery(ids: &[&ContactId]) -> Value {
    let mut lines: Vec<Value> = ids.iter().map(|id| recording_line(id)).collect();
    lines.push(json!({"ContactId": ids[0].as_str(), "ContactFlowModuleType": "SetQueue", "Parameters": {}}));
    connect_logs::delivery(&lines)
}

impl Contacts {
    async fn start() -> Self {
        let options = StackOptions::default()
            .with_bin_dir(bin_dir())
            .with_time_scale(time_scale())
            .with_parameter("RecordingGraceSeconds", "3")
            .with_parameter("RecordingKeyPrefix", PREFIX)
            .with_parameter("FlowLogsSilenceSeconds", "5")
            // The test fires the sweep itself, as the Invoke API lets anyone.
            .without_schedules()
            .quiet();
        let d = Driver::start_with(options).await;
        let connect = d.stack().connect_url().expect("the Connect fake runs");
        let store = DynamoContactStore::new(d.dynamodb(), d.table("ContactsTable"));
        Self { d, http: kit::http::client().expect("http client"), connect, store }
    }

    async fn invoke(&self, function: &str, payload: Value) -> InvokeOutcome {
        self.d.stack().invoke(function, payload).await.expect("invoke")
    }

    /// The flow-log watch, as its business-hours schedule invokes it.
    async fn watch(&self) -> Value {
        match self.invoke("recording-sweep", json!({"watch": "flow-logs"})).await {
            InvokeOutcome::Ok(report) => report,
            InvokeOutcome::FunctionError(e) => panic!("watch failed: {e}"),
        }
    }

    async fn ingest(&self, payload: Value) -> Value {
        match self.invoke("ingest-connect-logs", payload).await {
            InvokeOutcome::Ok(summary) => summary,
            InvokeOutcome::FunctionError(e) => panic!("ingest failed: {e}"),
        }
    }

    /// One sweep, then the work it sent is done.
    async fn sweep(&self) -> Value {
        let summary = match self.invoke("recording-sweep", json!({})).await {
            InvokeOutcome::Ok(summary) => summary,
            InvokeOutcome::FunctionError(e) => panic!("sweep failed: {e}"),
        };
        self.d.wait_queues_drained(&STEP_QUEUES, WAIT).await;
        summary
    }

    async fn script(&self, scripts: Value) {
        let resp = self.http.post(format!("{}/__contacts", self.connect)).json(&scripts).send().await.expect("script");
        assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap_or_default());
    }

    async fn advance(&self, id: &ContactId) {
        let resp = self.http.post(format!("{}/__contacts/{id}/advance", self.connect)).send().await.expect("advance");
        assert_eq!(resp.status(), 200);
    }

    async fn connect_faults(&self, config: Value) {
        let resp = self.http.post(format!("{}/__faults", self.connect)).json(&config).send().await.expect("faults");
        assert_eq!(resp.status(), 200);
    }

    async fn connect_counts(&self) -> Value {
        self.http.get(format!("{}/__contacts", self.connect)).send().await.expect("list").json().await.expect("json")
    }

    async fn contact(&self, id: &ContactId) -> Option<Contact> {
        self.store.get(id).await.expect("GetItem")
    }

    async fn state(&self, id: &ContactId) -> Option<ContactState> {
        self.contact(id).await.map(|c| c.state)
    }

    /// Sweeps until `id` is in `state` (a poll can land just after a sweep's read).
    async fn sweep_until(&self, id: &ContactId, state: ContactState) {
        eventually(&format!("{id} {state}"), WAIT, || async {
            self.sweep().await;
            (self.state(id).await == Some(state)).then_some(())
        })
        .await;
    }

    async fn put_recording(&self, id: &ContactId) {
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(self.d.stack().sdk_config()).force_path_style(true).build(),
        );
        let key = contacts::recording::recording_key(PREFIX, id.as_str(), chrono::Utc::now());
        let bucket = self.d.stack().provisioned().bucket_name("RecordingBucket").expect("bucket").to_owned();
        s3.put_object().bucket(bucket).key(key).body(b"RIFF....WAVE".to_vec().into()).send().await.expect("PutObject");
    }

    /// Alerts on the recording-missing topic, by contact id.
    async fn alerts_for(&self, id: &ContactId) -> usize {
        let alerts = self.d.messages_in("RecordingMissingAlertsQueue").await;
        alerts
            .iter()
            .filter_map(|m| serde_json::from_str::<Value>(&m.body).ok())
            .filter(|a| a["type"] == "contact.recording-missing" && a["payload"]["contact_id"] == id.as_str())
            .count()
    }

    fn ops_token(&self, roles: &str) -> String {
        let settings = self.d.stack().jwt_settings();
        let secret = std::env::var("LOCAL_JWT_SECRET")
            .ok()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| local_stack::DEFAULT_JWT_SECRET.to_owned());
        local_stack::mint_token(
            &secret,
            &TokenRequest {
                subject: "ops-analyst".to_owned(),
                issuer: settings.issuer.clone(),
                audience: settings.audience.clone(),
                ttl: Duration::from_secs(600),
                claims: [("roles".to_owned(), roles.to_owned())].into(),
            },
        )
        .expect("token")
    }

    async fn api(&self, path: &str, roles: &str) -> (u16, Value) {
        let resp = self
            .http
            .get(format!("{}{path}", self.d.stack().http_url()))
            .bearer_auth(self.ops_token(roles))
            .send()
            .await
            .expect("API");
        (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
    }
}

fn fixture(name: &str) -> Value {
    let path = integration_tests::workspace_root().join(format!("events/poll-contact/{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recording_leakage_detector_end_to_end() {
    let c = Contacts::start().await;

    // --- Issue 16: the flow-log watch. Nothing delivered yet: the first watch starts
    // the window; once FlowLogsSilenceSeconds (5 s here) pass without a delivery the
    // subscription is reported silent (FlowLogsSilent = 1, what the alarm reads); a
    // delivery ends it.
    assert_eq!(c.watch().await["silent"], false, "the window starts");
    eventually("the flow logs reported silent", WAIT, || async { (c.watch().await["silent"] == true).then_some(()) })
        .await;
    // The function's output is read as it comes: poll for the EMF line.
    eventually("FlowLogsSilent = 1 written as EMF", WAIT, || async {
        c.d.function_logs("recording-sweep")
            .iter()
            .any(|line| serde_json::from_str::<Value>(line).is_ok_and(|v| v["FlowLogsSilent"] == json!([1.0])))
            .then_some(())
    })
    .await;
    c.ingest(connect_logs::delivery(&[json!({"ContactFlowModuleType": "SetQueue"})])).await;
    let report = c.watch().await;
    assert_eq!(report["silent"], false, "{report}");

    // --- The seed's four DescribeContact responses, served by the fake through the real SDK.
    let seeds = [
        ("completed-agent", ContactState::CompletedAgent),
        ("in-progress-agent", ContactState::InProgressAgent),
        ("completed-queue", ContactState::CompletedQueue),
        ("in-progress-queue", ContactState::InProgressQueue),
    ];
    let seed_ids: Vec<ContactId> = seeds.iter().map(|_| new_id()).collect();
    let scripts: Vec<Value> = seeds
        .iter()
        .zip(&seed_ids)
        .map(|((name, _), id)| json!({"instance_id": INSTANCE, "contact_id": id.as_str(), "response": fixture(name)}))
        .collect();
    c.script(json!(scripts)).await;
    let summary = c.ingest(delivery(&seed_ids.iter().collect::<Vec<_>>())).await;
    assert_eq!(summary["cached"], 4, "{summary}");
    c.sweep().await;
    for ((name, state), id) in seeds.iter().zip(&seed_ids) {
        eventually(&format!("{name} -> {state}"), WAIT, || async { (c.state(id).await == Some(*state)).then_some(()) })
            .await;
    }

    // --- A full lifecycle: answered + recorded (a), answered + unrecorded (b), abandoned (c).
    let (a, b, ab) = (new_id(), new_id(), new_id());
    let on_demand = json!([{"stage": "queue"}, {"stage": "agent"}, {"stage": "ended"}]);
    c.script(json!([
        {"instance_id": INSTANCE, "contact_id": a.as_str(), "stages": on_demand},
        {"instance_id": INSTANCE, "contact_id": b.as_str(), "stages": on_demand},
        {"instance_id": INSTANCE, "contact_id": ab.as_str(), "lifecycle": "abandoned"},
    ]))
    .await;
    let payload = delivery(&[&a, &b, &ab]);
    c.ingest(payload.clone()).await;
    let cached = c.contact(&a).await.expect("cached");
    assert_eq!(cached.state, ContactState::Initialised);
    let first = cached.recording_settings.first_enabling().expect("an enabling setting");
    assert_eq!(first.participants, ["Agent", "Customer"]);
    // A replayed delivery changes nothing.
    let replay = c.ingest(payload).await;
    assert_eq!((replay["cached"].as_u64(), replay["already_cached"].as_u64()), (Some(0), Some(3)), "{replay}");
    assert_eq!(c.contact(&a).await, Some(cached));

    // --- Issue 16: a customer who opted out (recording enabled, then switched off before
    // the agent), its two lines in separate deliveries, the later one first; and a chat
    // through the same flow. Neither is alerted.
    let (opted_out, chat) = (new_id(), new_id());
    let quick = json!([{"stage": "queue", "secs": 1}, {"stage": "agent", "secs": 1}, {"stage": "ended"}]);
    c.script(json!([
        {"instance_id": INSTANCE, "contact_id": opted_out.as_str(), "stages": quick},
        {"instance_id": INSTANCE, "contact_id": chat.as_str(), "stages": quick, "channel": "CHAT"},
    ]))
    .await;
    let enabled_at = chrono::Utc::now() - chrono::Duration::seconds(20);
    let off = connect_logs::setting_line(INSTANCE, &opted_out, enabled_at + chrono::Duration::seconds(5), false);
    let on = connect_logs::setting_line(INSTANCE, &opted_out, enabled_at, true);
    assert_eq!(c.ingest(connect_logs::delivery(&[off])).await["cached"], 1);
    let summary = c.ingest(connect_logs::delivery(&[on, recording_line(&chat)])).await;
    assert_eq!((summary["updated"].as_u64(), summary["cached"].as_u64()), (Some(1), Some(1)), "{summary}");

    c.sweep_until(&a, ContactState::InProgressQueue).await;
    c.advance(&a).await;
    c.advance(&b).await;
    c.sweep_until(&b, ContactState::InProgressAgent).await;
    assert_eq!(c.state(&a).await, Some(ContactState::InProgressAgent));
    assert_eq!(c.state(&ab).await, Some(ContactState::InProgressQueue));
    for id in [&a, &b, &ab] {
        c.advance(id).await;
    }
    c.put_recording(&a).await;
    c.sweep_until(&b, ContactState::CompletedAgent).await;
    assert_eq!(c.state(&a).await, Some(ContactState::CompletedAgent));

    // The next sweeps delete the abandoned call, find a's recording, and (after the
    // 3 s grace period) mark b unrecorded with one alert.
    eventually("b unrecorded", WAIT, || async {
        c.sweep().await;
        let b = c.contact(&b).await?;
        (b.recording_state == Some(RecordingState::Missing) && b.alert_sent_at.is_some()).then_some(())
    })
    .await;
    assert_eq!(c.state(&ab).await, None, "completed in the queue: deleted");
    eventually("the opted-out call not expected, the chat not applicable", WAIT, || async {
        c.sweep().await;
        let (o, ch) = (c.contact(&opted_out).await?, c.contact(&chat).await?);
        (o.recording_state == Some(RecordingState::NotExpected)
            && ch.recording_state == Some(RecordingState::NotApplicable))
        .then_some(())
    })
    .await;
    assert_eq!(c.contact(&opted_out).await.and_then(|o| o.alert_sent_at), None);
    assert_eq!(c.contact(&chat).await.and_then(|ch| ch.channel), Some(contacts::Channel::Chat));
    let recorded = c.contact(&a).await.expect("a");
    assert_eq!(recorded.recording_state, Some(RecordingState::Recorded));
    assert!(recorded.recording_key.expect("key").starts_with(&format!("{PREFIX}/")));

    // Repeated sweeps change nothing and alert no more.
    let before = (c.contact(&a).await, c.contact(&b).await);
    for _ in 0..3 {
        c.sweep().await;
    }
    assert_eq!((c.contact(&a).await, c.contact(&b).await), before);
    assert_eq!(c.alerts_for(&b).await, 1, "one alert for the unrecorded call");
    assert_eq!(c.alerts_for(&a).await, 0);
    assert_eq!((c.alerts_for(&opted_out).await, c.alerts_for(&chat).await), (0, 0), "no false alerts");

    // --- The operations API.
    let (status, body) = c.api(&format!("/contacts/{b}"), "[ops]").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["state"].as_str(), body["recording_state"].as_str()),
        (Some("COMPLETED - AGENT"), Some("CALL_RECORDED_FAILURE"))
    );
    assert!(body["timestamps"]["alert_sent_at"].is_string() && body["timestamps"]["disconnected_at"].is_string());
    let from = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let (status, list) = c.api(&format!("/contacts?recording_state=CALL_RECORDED_FAILURE&from={from}"), "ops").await;
    assert_eq!(status, 200, "{list}");
    let listed: Vec<&str> =
        list["items"].as_array().expect("items").iter().filter_map(|i| i["contact_id"].as_str()).collect();
    assert!(listed.contains(&b.as_str()) && !listed.contains(&a.as_str()), "{list}");
    assert_eq!(c.api(&format!("/contacts/{b}"), "[support]").await.0, 403);
    let (status, body) = c.api(&format!("/contacts/{opted_out}"), "ops").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["recording_state"], "RECORDING_NOT_EXPECTED");
    assert_eq!(body["recording_settings"].as_array().map(Vec::len), Some(2), "{body}");
    assert_eq!(body["not_expected_because"], "recording switched off before the agent connected");

    // --- A throttled DescribeContact is retried later, not dead-lettered.
    let t = new_id();
    c.script(json!({"instance_id": INSTANCE, "contact_id": t.as_str(), "lifecycle": "queue_only"})).await;
    c.ingest(delivery(&[&t])).await;
    let throttled_before = c.connect_counts().await["throttled"].as_u64().unwrap_or(0);
    c.connect_faults(json!({"error_rate": 1, "status": 429})).await;
    c.invoke("recording-sweep", json!({})).await;
    eventually("two throttled DescribeContact calls", WAIT, || async {
        (c.connect_counts().await["throttled"].as_u64()? >= throttled_before + 2).then_some(())
    })
    .await;
    c.connect_faults(json!({"error_rate": 0})).await;
    eventually("the throttled contact polled", WAIT, || async {
        (c.state(&t).await == Some(ContactState::InProgressQueue)).then_some(())
    })
    .await;
    let logs = c.d.function_logs("poll-contact").join("\n");
    assert!(logs.contains("connect_throttled"), "the throttling was logged as such");

    // --- A contact Connect does not know is closed with a reason, not retried forever.
    let unknown = new_id();
    c.ingest(delivery(&[&unknown])).await;
    c.sweep_until(&unknown, ContactState::Closed).await;
    let closed = c.contact(&unknown).await.expect("closed");
    assert!(closed.closed_reason.expect("reason").contains("ResourceNotFoundException"));

    // --- A malformed payload is a permanent error with its reason.
    match c.invoke("ingest-connect-logs", json!({"awslogs": {"data": "not base64!"}})).await {
        InvokeOutcome::FunctionError(e) => {
            assert_eq!(e["errorType"], "malformed_payload", "{e}");
            assert!(e["errorMessage"].as_str().unwrap_or_default().contains("base64"), "{e}");
        }
        InvokeOutcome::Ok(v) => panic!("a malformed payload was accepted: {v}"),
    }

    // Nothing was dead-lettered, and the customer's number never reached a log.
    assert!(c.d.messages_in("PollContactDlq").await.is_empty(), "throttling must not dead-letter");
    assert!(c.d.messages_in("CheckRecordingDlq").await.is_empty());
    for function in ["poll-contact", "check-recording", "recording-sweep", "ingest-connect-logs"] {
        let logs = c.d.function_logs(function).join("\n");
        assert!(!logs.is_empty(), "{function} logged nothing?");
        assert!(!logs.contains(CUSTOMER_NUMBER), "{function} logged the customer's number");
    }
}

#[test]
fn the_sweep_runs_on_the_five_minute_marks() {
    let template =
        std::fs::read_to_string(integration_tests::workspace_root().join("infra/template.yaml")).expect("template");
    assert!(template.contains("Schedule: cron(0/5 * * * ? *)"));
    let cron: local_stack::sources::ScheduleExpression = "cron(0/5 * * * ? *)".parse().expect("cron");
    let at = |h, m, s| chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 1, 1, h, m, s).single().expect("time");
    assert_eq!(cron.next_after(at(13, 1, 30), at(0, 0, 0)), Some(at(13, 5, 0)));
    assert_eq!(cron.next_after(at(13, 5, 0), at(0, 0, 0)), Some(at(13, 10, 0)));
    assert_eq!(cron.next_after(at(13, 58, 0), at(0, 0, 0)), Some(at(14, 0, 0)));
}
