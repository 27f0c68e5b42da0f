//! The adapter's reading of DynamoDB's answers, with the SDK's own mocks: which
//! cancellation means "duplicate", which means "retry", which means "refuse".

use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemOutput;
use aws_sdk_dynamodb::types::error::TransactionCanceledException;
use aws_sdk_dynamodb::types::{AttributeValue, CancellationReason};
use aws_sdk_dynamodb::Client;
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use kit::{Classify, ErrorClass};

use super::DynamoActivityStore;
use crate::domain::{LoginEvent, RawLoginEvent};
use crate::ports::{LoginRecorder, StoreError};

fn event() -> LoginEvent {
    let raw = RawLoginEvent {
        user_id: "u1".into(),
        service_id: "svc".into(),
        service_name: "Service".into(),
        timestamp: "2024-01-01T00:00:00Z".into(),
        event_id: Some("e1".into()),
        session_id: None,
    };
    LoginEvent::parse(raw, "2024-06-01T00:00:00Z".parse().unwrap()).unwrap()
}

fn cancelled(codes: &[Option<&str>]) -> TransactWriteItemsError {
    let reasons = codes.iter().map(|c| CancellationReason::builder().set_code(c.map(str::to_owned)).build()).collect();
    TransactWriteItemsError::TransactionCanceledException(
        TransactionCanceledException::builder().set_cancellation_reasons(Some(reasons)).message("cancelled").build(),
    )
}

#[tokio::test]
async fn a_cancelled_put_with_the_same_content_is_a_duplicate_and_still_repairs_last_accessed() {
    let e = event();
    let hash = e.content_hash();
    let tx = mock!(Client::transact_write_items).then_error(|| cancelled(&[Some("ConditionalCheckFailed"), None]));
    let get = mock!(Client::get_item)
        .then_output(move || GetItemOutput::builder().item("content_hash", AttributeValue::S(hash.clone())).build());
    let update = mock!(Client::update_item).then_output(|| UpdateItemOutput::builder().build());
    let client = mock_client!(aws_sdk_dynamodb, RuleMode::Sequential, [&tx, &get, &update]);
    let recorded = DynamoActivityStore::new(client, "t").record(&e).await.unwrap();
    assert!(!recorded.new_event);
    assert!(recorded.newest_for_service);
    assert_eq!(update.num_calls(), 1, "step 2 runs on a duplicate too");
}

#[tokio::test]
async fn a_reused_event_id_with_other_content_is_refused_permanently_and_changes_nothing() {
    let tx = mock!(Client::transact_write_items).then_error(|| cancelled(&[Some("ConditionalCheckFailed"), None]));
    let get = mock!(Client::get_item)
        .then_output(|| GetItemOutput::builder().item("content_hash", AttributeValue::S("other".into())).build());
    let update = mock!(Client::update_item).then_output(|| UpdateItemOutput::builder().build());
    let client = mock_client!(aws_sdk_dynamodb, RuleMode::Sequential, [&tx, &get, &update]);
    let err = DynamoActivityStore::new(client, "t").record(&event()).await.unwrap_err();
    assert!(matches!(err, StoreError::EventIdReused { .. }), "{err}");
    assert_eq!(err.class(), ErrorClass::Permanent);
    assert_eq!(update.num_calls(), 0, "last_accessed must not move for a refused event");
}

#[tokio::test]
async fn a_transaction_conflict_is_retryable_not_a_duplicate() {
    let tx = mock!(Client::transact_write_items).then_error(|| cancelled(&[None, Some("TransactionConflict")]));
    let client = mock_client!(aws_sdk_dynamodb, RuleMode::Sequential, [&tx]);
    let err = DynamoActivityStore::new(client, "t").record(&event()).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Retryable, "{err}");
    assert_eq!(err.kind(), "activity_store");
}
