//! The proxy's refusals as the SDKs read them: the real router in front of
//! nothing (a refused request never reaches the upstream), real SDK clients,
//! and the typed errors they parse out of our bytes.

use std::collections::HashMap;

use aws_config::retry::RetryConfig;
use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::{
    AttributeValue, Get, KeysAndAttributes, Put, PutRequest, TransactGetItem, TransactWriteItem, WriteRequest,
};
use aws_sdk_sqs::error::ProvideErrorMetadata;
use tokio::net::TcpListener;

use crate::fault_proxy::{router, FaultInjector, Gate, RequestCounter};

/// The proxy on a free port, forwarding to a port nothing listens on.
async fn proxy() -> (String, tokio::task::JoinHandle<()>) {
    let app = router("http://127.0.0.1:9", FaultInjector::default(), RequestCounter::default(), Gate::default())
        .expect("router");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), task)
}

async fn sdk(endpoint: &str) -> SdkConfig {
    crate::sdk_config(endpoint, "eu-west-2").await.into_builder().retry_config(RetryConfig::disabled()).build()
}

#[tokio::test]
async fn sqs_refusals_parse_into_modelled_errors() {
    use aws_sdk_sqs::operation::change_message_visibility_batch::ChangeMessageVisibilityBatchError;
    use aws_sdk_sqs::operation::delete_message_batch::DeleteMessageBatchError;
    use aws_sdk_sqs::operation::send_message_batch::SendMessageBatchError;
    use aws_sdk_sqs::types::{
        ChangeMessageVisibilityBatchRequestEntry, DeleteMessageBatchRequestEntry, SendMessageBatchRequestEntry,
    };

    let (endpoint, _server) = proxy().await;
    let sqs = aws_sdk_sqs::Client::new(&sdk(&endpoint).await);
    let queue = format!("{endpoint}/000000000000/q");
    let entry = |id: String, body: &str| {
        SendMessageBatchRequestEntry::builder().id(id).message_body(body).build().expect("entry")
    };
    let batch = |entries: Vec<SendMessageBatchRequestEntry>| {
        sqs.send_message_batch().queue_url(&queue).set_entries(Some(entries)).send()
    };

    let err = batch((0..11).map(|i| entry(i.to_string(), "x")).collect()).await.expect_err("refused");
    let service = err.as_service_error().expect("service error");
    assert!(matches!(service, SendMessageBatchError::TooManyEntriesInBatchRequest(_)), "{service:?}");
    assert_eq!(service.message(), Some("Maximum number of entries per request are 10. You have sent 11."));

    let err = batch(Vec::new()).await.expect_err("refused");
    assert!(matches!(err.as_service_error(), Some(SendMessageBatchError::EmptyBatchRequest(_))), "{err:?}");

    let err = batch(vec![entry("a".into(), "1"), entry("a".into(), "2")]).await.expect_err("refused");
    assert!(matches!(err.as_service_error(), Some(SendMessageBatchError::BatchEntryIdsNotDistinct(_))), "{err:?}");

    let half = "x".repeat(super::sqs::MAX_MESSAGE_BYTES / 2 + 1);
    let err = batch(vec![entry("a".into(), &half), entry("b".into(), &half)]).await.expect_err("refused");
    assert!(matches!(err.as_service_error(), Some(SendMessageBatchError::BatchRequestTooLong(_))), "{err:?}");

    // Not a modelled error of SendMessage: unhandled, with AWS's code.
    let err = sqs
        .send_message()
        .queue_url(&queue)
        .message_body("x".repeat(super::sqs::MAX_MESSAGE_BYTES + 1))
        .send()
        .await
        .expect_err("refused");
    let service = err.as_service_error().expect("service error");
    assert_eq!(service.code(), Some("InvalidParameterValue"), "{service:?}");
    assert!(service.message().is_some_and(|m| m.contains("Message must be shorter than 1048576 bytes")), "{service:?}");

    let deletes: Vec<_> = (0..11)
        .map(|i| {
            DeleteMessageBatchRequestEntry::builder().id(i.to_string()).receipt_handle("h").build().expect("entry")
        })
        .collect();
    let err =
        sqs.delete_message_batch().queue_url(&queue).set_entries(Some(deletes)).send().await.expect_err("refused");
    assert!(
        matches!(err.as_service_error(), Some(DeleteMessageBatchError::TooManyEntriesInBatchRequest(_))),
        "{err:?}"
    );

    let changes: Vec<_> = (0..11)
        .map(|i| {
            ChangeMessageVisibilityBatchRequestEntry::builder()
                .id(i.to_string())
                .receipt_handle("h")
                .visibility_timeout(30)
                .build()
                .expect("entry")
        })
        .collect();
    let err = sqs
        .change_message_visibility_batch()
        .queue_url(&queue)
        .set_entries(Some(changes))
        .send()
        .await
        .expect_err("refused");
    assert!(
        matches!(err.as_service_error(), Some(ChangeMessageVisibilityBatchError::TooManyEntriesInBatchRequest(_))),
        "{err:?}"
    );

    let err = sqs
        .change_message_visibility()
        .queue_url(&queue)
        .receipt_handle("h")
        .visibility_timeout(43_201)
        .send()
        .await
        .expect_err("refused");
    assert_eq!(err.as_service_error().and_then(|e| e.code()), Some("InvalidParameterValue"), "{err:?}");
}

#[tokio::test]
async fn sns_refusals_parse_into_modelled_errors() {
    use aws_sdk_sns::operation::publish::PublishError;
    use aws_sdk_sns::operation::publish_batch::PublishBatchError;
    use aws_sdk_sns::types::PublishBatchRequestEntry;

    let (endpoint, _server) = proxy().await;
    let sns = aws_sdk_sns::Client::new(&sdk(&endpoint).await);
    let topic = "arn:aws:sns:eu-west-2:000000000000:t";

    let err = sns
        .publish()
        .topic_arn(topic)
        .message("m".repeat(super::sns::MAX_MESSAGE_BYTES + 1))
        .send()
        .await
        .expect_err("refused");
    let service = err.as_service_error().expect("service error");
    assert!(matches!(service, PublishError::InvalidParameterException(_)), "{service:?}");
    assert!(service.message().is_some_and(|m| m.starts_with("Invalid parameter: Message too long")), "{service:?}");

    let entry =
        |id: String, message: &str| PublishBatchRequestEntry::builder().id(id).message(message).build().expect("entry");
    let batch = |entries: Vec<PublishBatchRequestEntry>| {
        sns.publish_batch().topic_arn(topic).set_publish_batch_request_entries(Some(entries)).send()
    };

    let err = batch((0..11).map(|i| entry(i.to_string(), "m")).collect()).await.expect_err("refused");
    assert!(
        matches!(err.as_service_error(), Some(PublishBatchError::TooManyEntriesInBatchRequestException(_))),
        "{err:?}"
    );
    let err = batch(Vec::new()).await.expect_err("refused");
    assert!(matches!(err.as_service_error(), Some(PublishBatchError::EmptyBatchRequestException(_))), "{err:?}");
    let err = batch(vec![entry("a".into(), "1"), entry("a".into(), "2")]).await.expect_err("refused");
    assert!(matches!(err.as_service_error(), Some(PublishBatchError::BatchEntryIdsNotDistinctException(_))), "{err:?}");
    let half = "m".repeat(super::sns::MAX_MESSAGE_BYTES / 2 + 1);
    let err = batch(vec![entry("a".into(), &half), entry("b".into(), &half)]).await.expect_err("refused");
    assert!(matches!(err.as_service_error(), Some(PublishBatchError::BatchRequestTooLongException(_))), "{err:?}");
}

#[tokio::test]
async fn dynamodb_refusals_parse_as_validation_exceptions() {
    let (endpoint, _server) = proxy().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk(&endpoint).await);
    let key = |i: usize| HashMap::from([("pk".to_owned(), AttributeValue::S(i.to_string()))]);
    let validation = |code: Option<&str>, message: Option<&str>, expected: &str| {
        assert_eq!(code, Some("ValidationException"));
        assert!(message.is_some_and(|m| m.starts_with(expected)), "{message:?}");
    };

    let big = HashMap::from([
        ("pk".to_owned(), AttributeValue::S("k".into())),
        ("data".to_owned(), AttributeValue::S("x".repeat(super::dynamodb::MAX_ITEM_BYTES))),
    ]);
    let err = dynamodb.put_item().table_name("t").set_item(Some(big.clone())).send().await.expect_err("refused");
    let service = err.as_service_error().expect("service error");
    validation(service.code(), service.message(), "Item size has exceeded the maximum allowed size");

    let put = TransactWriteItem::builder()
        .put(Put::builder().table_name("t").set_item(Some(big.clone())).build().expect("put"))
        .build();
    let err = dynamodb.transact_write_items().transact_items(put).send().await.expect_err("refused");
    let service = err.as_service_error().expect("service error");
    validation(service.code(), service.message(), "Item size has exceeded the maximum allowed size");

    let writes: Vec<_> = (0..26)
        .map(|i| {
            WriteRequest::builder()
                .put_request(PutRequest::builder().set_item(Some(key(i))).build().expect("put"))
                .build()
        })
        .collect();
    let err = dynamodb.batch_write_item().request_items("t", writes).send().await.expect_err("refused");
    let service = err.as_service_error().expect("service error");
    validation(service.code(), service.message(), "1 validation error detected: Value at 'RequestItems.t.member'");

    let keys = KeysAndAttributes::builder().set_keys(Some((0..101).map(key).collect())).build().expect("keys");
    let err = dynamodb.batch_get_item().request_items("t", keys).send().await.expect_err("refused");
    let service = err.as_service_error().expect("service error");
    validation(service.code(), service.message(), "1 validation error detected");

    let gets: Vec<_> = (0..101)
        .map(|i| {
            TransactGetItem::builder()
                .get(Get::builder().table_name("t").set_key(Some(key(i))).build().expect("get"))
                .build()
        })
        .collect();
    let err = dynamodb.transact_get_items().set_transact_items(Some(gets)).send().await.expect_err("refused");
    let service = err.as_service_error().expect("service error");
    validation(service.code(), service.message(), "1 validation error detected: Value at 'TransactItems'");
}

#[tokio::test]
async fn sesv2_refusals_parse_into_bad_request() {
    use aws_sdk_sesv2::operation::send_email::SendEmailError;
    use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};

    let (endpoint, _server) = proxy().await;
    let ses = aws_sdk_sesv2::Client::new(&sdk(&endpoint).await);
    let text = Content::builder().data("hello").build().expect("content");
    let message = Message::builder().subject(text.clone()).body(Body::builder().text(text).build()).build();
    let to: Vec<String> = (0..51).map(|i| format!("to{i}@example.test")).collect();
    let err = ses
        .send_email()
        .from_email_address("noreply@example.test")
        .destination(Destination::builder().set_to_addresses(Some(to)).build())
        .content(EmailContent::builder().simple(message).build())
        .send()
        .await
        .expect_err("refused");
    let service = err.as_service_error().expect("service error");
    assert!(matches!(service, SendEmailError::BadRequestException(_)), "{service:?}");
    assert!(service.message().is_some_and(|m| m.starts_with("Recipient count exceeds 50.")), "{service:?}");
}
