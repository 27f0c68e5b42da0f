//! The workflow's promises, step by step, over in-memory ports.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use kit::batch::{Outcome, RecordContext};
use kit::testing::RecordingPublisher;
use kit::{Classify, ErrorClass};

use super::*;
use crate::messages::{ReportRequested, TicketCreated};
use crate::ports::{Mailer, ReportStore};
use crate::report::ReportStatus;
use crate::request::{ReportRequest, ReportSubmission};
use crate::testing::{FakeDesk, FakeMailer, FakeSink, MemoryReportStore, Reply};
use crate::ReportError;

const USER: &str = "user-1";
const TEMPLATE: &str = "template-1";

fn now() -> DateTime<Utc> {
    "2024-06-01T12:00:05Z".parse().unwrap()
}

fn submission(events: &[&str]) -> ReportSubmission {
    ReportSubmission {
        report_id: "8d0c7a4e-3b1f-4f5e-9a61-0c2b8e7d9f10".into(),
        user_id: USER.into(),
        email: "someone@example.gov.uk".into(),
        event_ids: events.iter().map(|e| (*e).to_owned()).collect(),
        reported_at: "2024-06-01T12:00:00Z".parse().unwrap(),
    }
}

fn ctx(receive_count: u32) -> RecordContext {
    RecordContext {
        step: Arc::from("test"),
        message_id: "m-1".into(),
        correlation_id: "c-1".into(),
        workflow_id: None,
        receive_count,
        first_received_at: None,
        group_id: None,
        deadline: None,
    }
}

struct World {
    store: MemoryReportStore,
    publisher: RecordingPublisher,
    desk: FakeDesk,
    mailer: FakeMailer,
    sink: FakeSink,
}

impl World {
    fn new() -> Self {
        Self {
            store: MemoryReportStore::with_events(USER, &["e-1", "e-2", "e-3"]),
            publisher: RecordingPublisher::default(),
            desk: FakeDesk::default(),
            mailer: FakeMailer::default(),
            sink: FakeSink::default(),
        }
    }
    async fn mark(&self, events: &[&str]) -> Result<Marked, ReportError> {
        mark_reported(&self.store, &self.publisher, submission(events), "c-1", now()).await
    }
    fn request(&self) -> ReportRequest {
        ReportRequest::parse(submission(&["e-1", "e-2"])).unwrap()
    }
    async fn ticket(&self, receive_count: u32) -> Result<Outcome, ReportError> {
        let event = ReportRequested { report: self.request() };
        create_ticket(&self.store, &self.desk, &self.publisher, &ctx(receive_count), event, now()).await
    }
    fn ticket_event(&self) -> TicketCreated {
        TicketCreated { report: self.request(), ticket_id: 1000 }
    }
    async fn txma(&self) -> Result<Outcome, ReportError> {
        let c = ctx(1);
        send_txma(&self.store, &self.sink, "HOME", self.ticket_event(), EffectContext { record: &c, now: now() }).await
    }
    async fn email(&self) -> Result<Outcome, ReportError> {
        let c = ctx(1);
        send_email(&self.store, &self.mailer, TEMPLATE, self.ticket_event(), EffectContext { record: &c, now: now() })
            .await
    }
    fn status(&self) -> ReportStatus {
        self.store.report(&self.request().report_id).unwrap().status
    }
}

#[tokio::test]
async fn the_happy_path_completes_with_one_of_everything() {
    let w = World::new();
    assert_eq!(w.mark(&["e-1", "e-2"]).await.unwrap(), Marked::Requested);
    assert_eq!(w.status(), ReportStatus::Requested);
    assert_eq!(w.store.event_mark(USER, "e-1").unwrap().0.as_deref(), Some("8d0c7a4e-3b1f-4f5e-9a61-0c2b8e7d9f10"));
    assert_eq!(w.publisher.of_type("report.requested").len(), 1);

    assert_eq!(w.ticket(1).await.unwrap(), Outcome::Done);
    assert_eq!(w.status(), ReportStatus::TicketCreated);
    assert_eq!(w.store.event_mark(USER, "e-2").unwrap().1, Some(1000));
    let created = w.publisher.of_type("report.ticket-created");
    assert_eq!(created[0]["payload"]["ticket_id"], 1000);

    assert_eq!(w.txma().await.unwrap(), Outcome::Done);
    assert_eq!(w.status(), ReportStatus::TicketCreated, "one of two parallel steps is not the end");
    assert_eq!(w.email().await.unwrap(), Outcome::Done);
    let report = w.store.report(&w.request().report_id).unwrap();
    assert_eq!(report.status, ReportStatus::Completed);
    assert!(report.completed_at.is_some() && report.txma_sent_at.is_some() && report.email_sent_at.is_some());
    assert_eq!(w.mailer.sent()[0].personalisation["ticket_id"], "1000");
    assert_eq!(w.sink.sent.lock().unwrap()[0].extensions.zendesk_ticket_number, "1000");
}

#[tokio::test]
async fn every_step_delivered_three_times_acts_once() {
    let w = World::new();
    for _ in 0..3 {
        w.mark(&["e-1", "e-2"]).await.unwrap();
    }
    for _ in 0..3 {
        w.ticket(1).await.unwrap();
    }
    for _ in 0..3 {
        w.email().await.unwrap();
        w.txma().await.unwrap();
    }
    assert_eq!(w.desk.tickets(), 1);
    assert_eq!(w.mailer.sent().len(), 1);
    assert_eq!(w.sink.sent.lock().unwrap().len(), 1);
    assert_eq!(w.status(), ReportStatus::Completed);
    // Redeliveries re-announce (a first attempt may have died before publishing).
    assert_eq!(w.publisher.of_type("report.requested").len(), 3);
}

#[tokio::test]
async fn reporting_a_foreign_or_reported_event_is_rejected_without_side_effects() {
    let w = World::new();
    assert_eq!(w.mark(&["e-1", "not-mine"]).await.unwrap(), Marked::Rejected);
    let report = w.store.report(&w.request().report_id).unwrap();
    assert_eq!(report.status, ReportStatus::Rejected);
    assert!(report.rejection_reason.unwrap().contains("not-mine"));
    assert_eq!(w.store.event_mark(USER, "e-1").unwrap().0, None, "nothing marked");
    assert!(w.publisher.published().is_empty());
    // A redelivery of the rejected report publishes nothing either.
    assert_eq!(w.mark(&["e-1", "not-mine"]).await.unwrap(), Marked::AlreadyKnown);
    assert!(w.publisher.published().is_empty());
}

#[tokio::test]
async fn an_already_reported_event_rejects_the_second_report() {
    let w = World::new();
    w.mark(&["e-1", "e-2"]).await.unwrap();
    let mut second = submission(&["e-2", "e-3"]);
    second.report_id = "11111111-2222-4333-8444-555555555555".into();
    let marked = mark_reported(&w.store, &w.publisher, second, "c-2", now()).await.unwrap();
    assert_eq!(marked, Marked::Rejected);
    assert_eq!(w.store.event_mark(USER, "e-3").unwrap().0, None);
}

#[tokio::test]
async fn a_reused_report_id_is_a_permanent_error() {
    let w = World::new();
    w.mark(&["e-1"]).await.unwrap();
    let err = w.mark(&["e-1", "e-2"]).await.unwrap_err();
    assert!(matches!(err, ReportError::ReportIdReused { .. }));
    assert_eq!(err.class(), ErrorClass::Permanent);
}

#[tokio::test]
async fn a_lost_ticket_response_does_not_create_a_second_ticket() {
    let w = World::new();
    w.mark(&["e-1", "e-2"]).await.unwrap();
    w.desk.replies.lock().unwrap().push(Reply::LostAfterDone);
    let err = w.ticket(1).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Retryable);
    assert_eq!(w.desk.tickets(), 1, "Zendesk made it");
    w.ticket(2).await.unwrap();
    assert_eq!(w.desk.tickets(), 1);
    assert_eq!(*w.desk.creates.lock().unwrap(), 1, "the redelivery found the ticket by external id");
    assert_eq!(w.status(), ReportStatus::TicketCreated);
}

#[tokio::test]
async fn a_zendesk_refusal_is_permanent_and_throttling_is_not() {
    let w = World::new();
    w.mark(&["e-1", "e-2"]).await.unwrap();
    w.desk.replies.lock().unwrap().extend([Reply::Status(429), Reply::Status(422)]);
    assert_eq!(w.ticket(1).await.unwrap_err().class(), ErrorClass::Retryable);
    let err = w.ticket(2).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Permanent);
    assert_eq!(err.kind(), "provider_rejected");
}

#[tokio::test]
async fn an_email_whose_answer_was_lost_is_found_not_resent() {
    let w = World::new();
    w.mark(&["e-1", "e-2"]).await.unwrap();
    w.ticket(1).await.unwrap();
    w.mailer.replies.lock().unwrap().push(Reply::LostAfterDone);
    assert_eq!(w.email().await.unwrap_err().class(), ErrorClass::Retryable);
    w.email().await.unwrap();
    assert_eq!(w.mailer.sent().len(), 1);
    assert!(w.store.report(&w.request().report_id).unwrap().notification_id.is_some());
}

#[tokio::test]
async fn an_email_attempt_that_died_holding_its_claim_is_looked_up_after_expiry() {
    let w = World::new();
    w.mark(&["e-1", "e-2"]).await.unwrap();
    w.ticket(1).await.unwrap();
    // A twin holds the claim: this attempt must not send.
    let id = w.request().report_id;
    let until = now() + chrono::Duration::seconds(30);
    w.store.claim(&id, crate::report::Effect::Email, now(), until).await.unwrap();
    let err = w.email().await.unwrap_err();
    assert_eq!(err.kind(), "claim_busy");
    assert_eq!(err.class(), ErrorClass::Retryable);
    assert!(w.mailer.sent().is_empty());
    // The twin dies after sending; its claim expires; the retry finds its email.
    w.mailer
        .send(&crate::clients::notify::EmailRequest {
            email_address: "someone@example.gov.uk".into(),
            template_id: TEMPLATE.into(),
            personalisation: Default::default(),
            reference: id.to_string(),
        })
        .await
        .unwrap();
    w.store.expire_claims();
    w.email().await.unwrap();
    assert_eq!(w.mailer.sent().len(), 1);
}

#[tokio::test]
async fn a_lost_publish_is_repaired_by_the_redelivery() {
    let w = World::new();
    w.publisher.fail_next(1);
    assert_eq!(w.mark(&["e-1", "e-2"]).await.unwrap_err().class(), ErrorClass::Retryable);
    assert_eq!(w.mark(&["e-1", "e-2"]).await.unwrap(), Marked::AlreadyKnown);
    assert_eq!(w.publisher.of_type("report.requested").len(), 1);
}

#[tokio::test]
async fn invalid_input_is_permanent_and_names_the_field() {
    let w = World::new();
    let mut bad = submission(&["e-1"]);
    bad.email = "nope".into();
    let err = mark_reported(&w.store, &w.publisher, bad, "c", now()).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Permanent);
    assert!(err.to_string().contains("email"));
}

#[tokio::test]
async fn a_providers_retry_after_and_name_reach_the_runner() {
    let w = World::new();
    w.mark(&["e-1", "e-2"]).await.unwrap();
    w.desk.replies.lock().unwrap().push(Reply::Throttled(300));
    let err = w.ticket(1).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Retryable);
    assert_eq!(err.retry_after(), Some(std::time::Duration::from_secs(300)));
    assert_eq!(err.dependency(), Some("zendesk"));

    w.ticket(2).await.unwrap();
    w.mailer.replies.lock().unwrap().push(Reply::Throttled(60));
    let err = w.email().await.unwrap_err();
    assert_eq!(err.retry_after(), Some(std::time::Duration::from_secs(60)));
    assert_eq!(err.dependency(), Some("notify"));
}

#[test]
fn only_outside_providers_are_named_as_dependencies() {
    use kit::sdk::SdkFailure;
    let txma = ReportError::Txma(crate::txma::TxmaError::Send(SdkFailure::retryable("throttled")));
    assert_eq!(txma.dependency(), Some("txma"));
    let store = ReportError::Store(crate::ports::StoreError::Sdk {
        operation: "UpdateItem",
        failure: SdkFailure::retryable("throttled"),
    });
    assert_eq!((store.dependency(), store.retry_after()), (None, None));
    assert_eq!(ReportError::ClaimBusy { effect: "email" }.dependency(), None);
}

#[tokio::test]
async fn a_rotated_zendesk_token_still_creates_exactly_one_ticket() {
    use crate::clients::zendesk::ZendeskClient;
    use crate::testing::{Answer, FakeProvider, FakeSecret};

    let w = World::new();
    w.mark(&["e-1", "e-2"]).await.unwrap();
    let provider = FakeProvider::start(vec![
        Answer::new(401, r#"{"error": "Couldn't authenticate you"}"#),
        Answer::new(201, r#"{"ticket": {"id": 1001}}"#),
    ])
    .await
    .unwrap();
    let token = FakeSecret::new("old-token");
    token.rotate("new-token");
    let desk = ZendeskClient::new(&provider.base_url, "agent@example.gov.uk", token, std::time::Duration::from_secs(5))
        .unwrap();

    let event = ReportRequested { report: w.request() };
    let outcome = create_ticket(&w.store, &desk, &w.publisher, &ctx(1), event, now()).await.unwrap();

    assert_eq!(outcome, Outcome::Done);
    assert_eq!(w.store.report(&w.request().report_id).unwrap().ticket_id, Some(1001));
    let posts = provider.seen().into_iter().filter(|r| r.method == "POST").count();
    assert_eq!(posts, 2, "the refused create, then the one that made the ticket");
    assert_eq!(w.publisher.of_type("report.ticket-created").len(), 1);
}
