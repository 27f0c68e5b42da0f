//! AWS's quotas at the fault proxy, end to end: the echo fixture provisioned
//! on a real emulator (no functions), SDK clients pointed at the proxy. Each
//! call one past a limit is refused with the error AWS returns, parsed by the
//! SDK into its typed error, and counted; the call at the limit goes through
//! to the emulator. Where moto refuses below AWS's limit (DynamoDB items over
//! 405,000 bytes, TransactGetItems over 25 actions), the test shows that the
//! refusal at the limit is the emulator's, not the proxy's.

mod common;

use std::collections::HashMap;

use aws_config::retry::RetryConfig;
use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, Get, KeySchemaElement, KeyType, KeysAndAttributes, Put,
    PutRequest, ScalarAttributeType, TransactGetItem, TransactWriteItem, WriteRequest,
};
use aws_sdk_sqs::error::ProvideErrorMetadata;
use local_stack::LocalStack;

/// What the proxy appends to AWS's message when it refuses a request itself.
const OURS: &str = "(local stack:";

async fn start(test: &str) -> Option<LocalStack> {
    let options =
        common::options_or_skip(test)?.with_template(common::echo_template()).with_stack_name("q").without_functions();
    Some(LocalStack::start(options).await.expect("stack starts"))
}

/// SDK configuration for the proxy, without retries.
async fn proxied(stack: &LocalStack) -> SdkConfig {
    local_stack::sdk_config(stack.proxy_endpoint(), &stack.context().region)
        .await
        .into_builder()
        .retry_config(RetryConfig::disabled())
        .build()
}

/// The error's message, asserting the proxy (not the emulator) answered.
fn refused_by_proxy(error: &impl ProvideErrorMetadata) -> String {
    let message = error.message().unwrap_or_default().to_owned();
    assert!(message.contains(OURS), "expected the proxy's refusal, got {:?}: {message}", error.code());
    message
}

#[tokio::test]
async fn sqs_batches_messages_and_visibility() {
    use aws_sdk_sqs::operation::change_message_visibility_batch::ChangeMessageVisibilityBatchError;
    use aws_sdk_sqs::operation::delete_message_batch::DeleteMessageBatchError;
    use aws_sdk_sqs::operation::send_message_batch::SendMessageBatchError;
    use aws_sdk_sqs::types::{
        ChangeMessageVisibilityBatchRequestEntry, DeleteMessageBatchRequestEntry, MessageAttributeValue,
        SendMessageBatchRequestEntry,
    };

    let Some(stack) = start("sqs_batches_messages_and_visibility").await else {
        return;
    };
    let sqs = aws_sdk_sqs::Client::new(&proxied(&stack).await);
    let queue = stack.provisioned().queue_url("EchoDlq").expect("queue").to_owned();
    const MIB: usize = 1_048_576;

    // SendMessage: body + attributes (name "k" 1 + type "String" 6 + value 1) up to 1 MiB.
    let attribute = MessageAttributeValue::builder().data_type("String").string_value("v").build().expect("attribute");
    let send = |bytes: usize| {
        sqs.send_message()
            .queue_url(&queue)
            .message_body("x".repeat(bytes - 8))
            .message_attributes("k", attribute.clone())
            .send()
    };
    send(MIB).await.expect("a message of exactly 1 MiB is accepted");
    let err = send(MIB + 1).await.expect_err("one byte over");
    let service = err.as_service_error().expect("service error");
    assert_eq!(service.code(), Some("InvalidParameterValue"));
    assert!(refused_by_proxy(service)
        .starts_with("One or more parameters are invalid. Reason: Message must be shorter than 1048576 bytes."));

    // SendMessageBatch: 1 to 10 entries, distinct ids, 1 MiB in total.
    let entry = |id: String, bytes: usize| {
        SendMessageBatchRequestEntry::builder().id(id).message_body("x".repeat(bytes)).build().expect("entry")
    };
    let batch = |entries: Vec<SendMessageBatchRequestEntry>| {
        sqs.send_message_batch().queue_url(&queue).set_entries(Some(entries)).send()
    };
    let ten = batch((0..10).map(|i| entry(i.to_string(), 1)).collect()).await.expect("10 entries");
    assert_eq!(ten.successful().len(), 10);
    let err = batch((0..11).map(|i| entry(i.to_string(), 1)).collect()).await.expect_err("11 entries");
    assert!(matches!(err.as_service_error(), Some(SendMessageBatchError::TooManyEntriesInBatchRequest(_))), "{err:?}");
    let err = batch(Vec::new()).await.expect_err("no entries");
    assert!(matches!(err.as_service_error(), Some(SendMessageBatchError::EmptyBatchRequest(_))), "{err:?}");
    let err = batch(vec![entry("a".into(), 1), entry("a".into(), 1)]).await.expect_err("same id twice");
    assert!(matches!(err.as_service_error(), Some(SendMessageBatchError::BatchEntryIdsNotDistinct(_))), "{err:?}");
    let full =
        batch((0..4).map(|i| entry(i.to_string(), MIB / 4)).collect()).await.expect("exactly 1 MiB in 4 entries");
    assert_eq!(full.successful().len(), 4);
    let mut over: Vec<_> = (0..3).map(|i| entry(i.to_string(), MIB / 4)).collect();
    over.push(entry("3".into(), MIB / 4 + 1));
    let err = batch(over).await.expect_err("one byte over 1 MiB in total");
    assert!(matches!(err.as_service_error(), Some(SendMessageBatchError::BatchRequestTooLong(_))), "{err:?}");

    // DeleteMessageBatch and ChangeMessageVisibilityBatch: at most 10 entries.
    // At the limit the emulator answers, failing each unknown handle per entry.
    let deletes = |count: usize| -> Vec<_> {
        (0..count)
            .map(|i| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(format!("gone-{i}"))
                    .build()
                    .expect("entry")
            })
            .collect()
    };
    let deleted = sqs.delete_message_batch().queue_url(&queue).set_entries(Some(deletes(10))).send().await.expect("10");
    assert_eq!(deleted.failed().len(), 10, "unknown handles fail per entry: {deleted:?}");
    let err = sqs.delete_message_batch().queue_url(&queue).set_entries(Some(deletes(11))).send().await.expect_err("11");
    assert!(
        matches!(err.as_service_error(), Some(DeleteMessageBatchError::TooManyEntriesInBatchRequest(_))),
        "{err:?}"
    );
    let changes = |count: usize, timeout: i32| -> Vec<_> {
        (0..count)
            .map(|i| {
                ChangeMessageVisibilityBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(format!("gone-{i}"))
                    .visibility_timeout(timeout)
                    .build()
                    .expect("entry")
            })
            .collect()
    };
    let changed = sqs
        .change_message_visibility_batch()
        .queue_url(&queue)
        .set_entries(Some(changes(10, 30)))
        .send()
        .await
        .expect("10");
    assert_eq!(changed.failed().len(), 10);
    let err = sqs
        .change_message_visibility_batch()
        .queue_url(&queue)
        .set_entries(Some(changes(11, 30)))
        .send()
        .await
        .expect_err("11");
    assert!(
        matches!(err.as_service_error(), Some(ChangeMessageVisibilityBatchError::TooManyEntriesInBatchRequest(_))),
        "{err:?}"
    );
    // A batch entry over 12 hours fails alone (the emulator's per-entry answer).
    let long = sqs
        .change_message_visibility_batch()
        .queue_url(&queue)
        .set_entries(Some(changes(1, 43_201)))
        .send()
        .await
        .expect("per-entry failure, not a refused request");
    assert_eq!(long.failed()[0].code(), "InvalidParameterValue");

    // ChangeMessageVisibility: at most 43,200 s. At exactly 43,200 the proxy
    // forwards; the emulator then applies the rule AWS applies to a received
    // message (12 hours in total), so only its answer may refuse it.
    sqs.send_message().queue_url(&queue).message_body("hold me").send().await.expect("send");
    let received = sqs.receive_message().queue_url(&queue).wait_time_seconds(1).send().await.expect("receive");
    let handle = received.messages().first().and_then(|m| m.receipt_handle()).expect("a message").to_owned();
    let change = |timeout: i32| {
        sqs.change_message_visibility().queue_url(&queue).receipt_handle(&handle).visibility_timeout(timeout).send()
    };
    change(600).await.expect("a visibility change goes through");
    if let Err(err) = change(43_200).await {
        let message = err.as_service_error().and_then(|e| e.message()).unwrap_or_default().to_owned();
        assert!(!message.contains(OURS) && message.contains("beyond the limit"), "{message}");
    }
    let err = change(43_201).await.expect_err("over 12 hours");
    let service = err.as_service_error().expect("service error");
    assert_eq!(service.code(), Some("InvalidParameterValue"));
    // AWS's own message names the value and the limit, so it carries no `(local stack:` suffix.
    assert!(service.message().unwrap_or_default().contains("Must be between 0 and 43200"), "{service:?}");

    // Refused requests are still counted: the function made them.
    let counts = stack.aws_requests();
    assert_eq!(counts.get("SQS.SendMessageBatch").copied(), Some(6), "{counts:?}");
    stack.shutdown().await;
}

#[tokio::test]
async fn sns_publish_and_publish_batch() {
    use aws_sdk_sns::operation::publish::PublishError;
    use aws_sdk_sns::operation::publish_batch::PublishBatchError;
    use aws_sdk_sns::types::{MessageAttributeValue, PublishBatchRequestEntry};

    let Some(stack) = start("sns_publish_and_publish_batch").await else {
        return;
    };
    let sns = aws_sdk_sns::Client::new(&proxied(&stack).await);
    let topic = stack.provisioned().topic_arn("EventsTopic").expect("topic").to_owned();
    const KIB_256: usize = 262_144;

    // Publish: message + subject + attributes up to 256 KiB (the topics' default).
    let attribute = MessageAttributeValue::builder().data_type("String").string_value("v").build().expect("attribute");
    let publish = |bytes: usize| {
        sns.publish()
            .topic_arn(&topic)
            .subject("hello")
            .message("m".repeat(bytes - 5 - 8))
            .message_attributes("k", attribute.clone())
            .send()
    };
    publish(KIB_256).await.expect("exactly 256 KiB is accepted");
    let err = publish(KIB_256 + 1).await.expect_err("one byte over");
    let service = err.as_service_error().expect("service error");
    assert!(matches!(service, PublishError::InvalidParameterException(_)), "{service:?}");
    assert!(refused_by_proxy(service).starts_with("Invalid parameter: Message too long"));

    // PublishBatch: 1 to 10 entries, distinct ids, 256 KiB in total.
    let entry = |id: String, bytes: usize| {
        PublishBatchRequestEntry::builder().id(id).message("m".repeat(bytes)).build().expect("entry")
    };
    let batch = |entries: Vec<PublishBatchRequestEntry>| {
        sns.publish_batch().topic_arn(&topic).set_publish_batch_request_entries(Some(entries)).send()
    };
    let ten = batch((0..10).map(|i| entry(i.to_string(), 1)).collect()).await.expect("10 entries");
    assert_eq!(ten.successful().len(), 10);
    let err = batch((0..11).map(|i| entry(i.to_string(), 1)).collect()).await.expect_err("11 entries");
    assert!(
        matches!(err.as_service_error(), Some(PublishBatchError::TooManyEntriesInBatchRequestException(_))),
        "{err:?}"
    );
    let err = batch(Vec::new()).await.expect_err("no entries");
    assert!(matches!(err.as_service_error(), Some(PublishBatchError::EmptyBatchRequestException(_))), "{err:?}");
    let err = batch(vec![entry("a".into(), 1), entry("a".into(), 1)]).await.expect_err("same id twice");
    assert!(matches!(err.as_service_error(), Some(PublishBatchError::BatchEntryIdsNotDistinctException(_))), "{err:?}");
    let full = batch((0..4).map(|i| entry(i.to_string(), KIB_256 / 4)).collect()).await.expect("exactly 256 KiB");
    assert_eq!(full.successful().len(), 4);
    let mut over: Vec<_> = (0..3).map(|i| entry(i.to_string(), KIB_256 / 4)).collect();
    over.push(entry("3".into(), KIB_256 / 4 + 1));
    let err = batch(over).await.expect_err("one byte over in total");
    assert!(matches!(err.as_service_error(), Some(PublishBatchError::BatchRequestTooLongException(_))), "{err:?}");
    stack.shutdown().await;
}

#[tokio::test]
async fn dynamodb_item_sizes_batches_and_transactions() {
    let Some(stack) = start("dynamodb_item_sizes_batches_and_transactions").await else {
        return;
    };
    // Tables are made on the emulator directly; everything else goes through the proxy.
    let direct = aws_sdk_dynamodb::Client::new(stack.sdk_config());
    for table in ["q-quotas-a", "q-quotas-b"] {
        direct
            .create_table()
            .table_name(table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name("pk")
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .expect("attribute"),
            )
            .key_schema(KeySchemaElement::builder().attribute_name("pk").key_type(KeyType::Hash).build().expect("key"))
            .send()
            .await
            .expect("create table");
    }
    let dynamodb = aws_sdk_dynamodb::Client::new(&proxied(&stack).await);
    let validation = |code: Option<&str>| assert_eq!(code, Some("ValidationException"));
    let key = |i: usize| HashMap::from([("pk".to_owned(), AttributeValue::S(format!("k{i}")))]);
    // An item of exactly `bytes`: pk (2 + 3) and data (4 + the rest).
    let item = |bytes: usize| {
        HashMap::from([
            ("pk".to_owned(), AttributeValue::S("big".into())),
            ("data".to_owned(), AttributeValue::S("x".repeat(bytes - 5 - 4))),
        ])
    };
    const ITEM: usize = 409_600;
    const MOTO_ITEM: usize = 405_000;

    // PutItem: up to 400 KB. moto stops at 405,000 bytes, below AWS's 409,600,
    // so between the two the refusal is the emulator's (a known difference).
    let put = |bytes: usize| dynamodb.put_item().table_name("q-quotas-a").set_item(Some(item(bytes))).send();
    put(MOTO_ITEM).await.expect("an item under both limits");
    if let Err(err) = put(ITEM).await {
        let message = err.as_service_error().and_then(|e| e.message()).unwrap_or_default().to_owned();
        assert!(!message.contains(OURS), "the proxy refused an item AWS accepts: {message}");
    }
    let err = put(ITEM + 1).await.expect_err("one byte over 400 KB");
    let service = err.as_service_error().expect("service error");
    validation(service.code());
    assert!(refused_by_proxy(service).starts_with("Item size has exceeded the maximum allowed size"));

    // TransactWriteItems: up to 100 actions, each Put's item up to 400 KB.
    let transact_put = |bytes: usize| {
        TransactWriteItem::builder()
            .put(Put::builder().table_name("q-quotas-a").set_item(Some(item(bytes))).build().expect("put"))
            .build()
    };
    let puts = |count: usize| -> Vec<_> {
        (0..count)
            .map(|i| {
                TransactWriteItem::builder()
                    .put(Put::builder().table_name("q-quotas-a").set_item(Some(key(i))).build().expect("put"))
                    .build()
            })
            .collect()
    };
    dynamodb.transact_write_items().set_transact_items(Some(puts(100))).send().await.expect("100 actions");
    let err = dynamodb.transact_write_items().set_transact_items(Some(puts(101))).send().await.expect_err("101");
    let service = err.as_service_error().expect("service error");
    validation(service.code());
    assert!(refused_by_proxy(service).contains("at 'TransactItems' failed to satisfy constraint"));
    let err = dynamodb.transact_write_items().transact_items(transact_put(ITEM + 1)).send().await.expect_err("big put");
    assert!(refused_by_proxy(err.as_service_error().expect("service error")).starts_with("Item size has exceeded"));

    // BatchWriteItem: up to 25 requests across tables, items up to 400 KB.
    let writes = |count: usize, from: usize| -> Vec<_> {
        (from..from + count)
            .map(|i| {
                WriteRequest::builder()
                    .put_request(PutRequest::builder().set_item(Some(key(i))).build().expect("put"))
                    .build()
            })
            .collect()
    };
    dynamodb.batch_write_item().request_items("q-quotas-a", writes(25, 0)).send().await.expect("25 requests");
    dynamodb
        .batch_write_item()
        .request_items("q-quotas-a", writes(20, 100))
        .request_items("q-quotas-b", writes(5, 200))
        .send()
        .await
        .expect("25 requests across two tables");
    let err = dynamodb.batch_write_item().request_items("q-quotas-a", writes(26, 300)).send().await.expect_err("26");
    let service = err.as_service_error().expect("service error");
    validation(service.code());
    assert!(refused_by_proxy(service).contains("'RequestItems.q-quotas-a.member'"));
    let err = dynamodb
        .batch_write_item()
        .request_items("q-quotas-a", writes(20, 400))
        .request_items("q-quotas-b", writes(6, 500))
        .send()
        .await
        .expect_err("26 across two tables");
    assert!(refused_by_proxy(err.as_service_error().expect("service error"))
        .starts_with("Too many items requested for the BatchWriteItem call"));
    let big = WriteRequest::builder()
        .put_request(PutRequest::builder().set_item(Some(item(ITEM + 1))).build().expect("put"))
        .build();
    let err = dynamodb.batch_write_item().request_items("q-quotas-a", vec![big]).send().await.expect_err("big item");
    assert!(refused_by_proxy(err.as_service_error().expect("service error")).starts_with("Item size has exceeded"));

    // BatchGetItem: up to 100 keys across tables.
    let keys = |count: usize| {
        KeysAndAttributes::builder().set_keys(Some((0..count).map(key).collect())).build().expect("keys")
    };
    dynamodb.batch_get_item().request_items("q-quotas-a", keys(100)).send().await.expect("100 keys");
    let err = dynamodb.batch_get_item().request_items("q-quotas-a", keys(101)).send().await.expect_err("101 keys");
    validation(err.as_service_error().and_then(|e| e.code()));
    assert!(refused_by_proxy(err.as_service_error().expect("service error")).contains("member.Keys"));
    let err = dynamodb
        .batch_get_item()
        .request_items("q-quotas-a", keys(60))
        .request_items("q-quotas-b", keys(41))
        .send()
        .await
        .expect_err("101 keys across two tables");
    assert!(refused_by_proxy(err.as_service_error().expect("service error"))
        .starts_with("Too many items requested for the BatchGetItem call"));

    // TransactGetItems: up to 100 actions. moto stops at 25 (a known
    // difference): at 100 the proxy forwards and only the emulator refuses.
    let gets = |count: usize| -> Vec<_> {
        (0..count)
            .map(|i| {
                TransactGetItem::builder()
                    .get(Get::builder().table_name("q-quotas-a").set_key(Some(key(i))).build().expect("get"))
                    .build()
            })
            .collect()
    };
    dynamodb.transact_get_items().set_transact_items(Some(gets(25))).send().await.expect("25 gets");
    if let Err(err) = dynamodb.transact_get_items().set_transact_items(Some(gets(100))).send().await {
        let message = err.as_service_error().and_then(|e| e.message()).unwrap_or_default().to_owned();
        assert!(!message.contains(OURS) && message.contains("less than or equal to 25"), "{message}");
    }
    let err = dynamodb.transact_get_items().set_transact_items(Some(gets(101))).send().await.expect_err("101 gets");
    assert!(refused_by_proxy(err.as_service_error().expect("service error")).contains("less than or equal to 100"));
    stack.shutdown().await;
}

#[tokio::test]
async fn ses_recipients_v1_and_v2() {
    use aws_sdk_sesv2::operation::send_email::SendEmailError;
    use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};

    let Some(stack) = start("ses_recipients_v1_and_v2").await else {
        return;
    };
    let sender = "noreply@example.test"; // the fixture's verified identity
    let addresses = |count: usize| -> Vec<String> { (0..count).map(|i| format!("to{i}@example.test")).collect() };

    // SES v2 (REST-JSON), through the SDK.
    let ses = aws_sdk_sesv2::Client::new(&proxied(&stack).await);
    let text = Content::builder().data("hello").build().expect("content");
    let message = Message::builder().subject(text.clone()).body(Body::builder().text(text).build()).build();
    let send = |to: usize, bcc: usize| {
        ses.send_email()
            .from_email_address(sender)
            .destination(
                Destination::builder()
                    .set_to_addresses(Some(addresses(to)))
                    .set_bcc_addresses(Some(addresses(bcc)))
                    .build(),
            )
            .content(EmailContent::builder().simple(message.clone()).build())
            .send()
    };
    send(40, 10).await.expect("50 recipients");
    let err = send(40, 11).await.expect_err("51 recipients");
    let service = err.as_service_error().expect("service error");
    assert!(matches!(service, SendEmailError::BadRequestException(_)), "{service:?}");
    assert!(refused_by_proxy(service).starts_with("Recipient count exceeds 50."));

    // SES v1 (query protocol): no SDK in this workspace, so the form by hand.
    let http = kit::http::client().expect("http client");
    let auth = "AWS4-HMAC-SHA256 Credential=test/20260101/eu-west-2/ses/aws4_request, SignedHeaders=host, Signature=0";
    let send_v1 = |count: usize| {
        let mut form = vec![
            ("Action".to_owned(), "SendEmail".to_owned()),
            ("Version".into(), "2010-12-01".into()),
            ("Source".into(), sender.into()),
            ("Message.Subject.Data".into(), "hello".into()),
            ("Message.Body.Text.Data".into(), "hello".into()),
        ];
        for (i, address) in addresses(count).into_iter().enumerate() {
            form.push((format!("Destination.ToAddresses.member.{}", i + 1), address));
        }
        http.post(format!("{}/", stack.proxy_endpoint())).header("authorization", auth).form(&form).send()
    };
    let ok = send_v1(50).await.expect("send");
    assert_eq!(ok.status(), 200, "{}", ok.text().await.unwrap_or_default());
    let refused = send_v1(51).await.expect("send");
    assert_eq!(refused.status(), 400);
    assert_eq!(refused.headers()["content-type"], "text/xml");
    let body = refused.text().await.expect("text");
    assert!(
        body.contains("<Code>InvalidParameterValue</Code>") && body.contains("Recipient count exceeds 50."),
        "{body}"
    );
    stack.shutdown().await;
}
