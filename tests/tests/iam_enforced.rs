//! IAM is enforced on the local stack: every function runs with its own
//! credentials and each AWS call is checked against its role as the template
//! (expanded as SAM does) grants it. These tests show the check can fail.

use std::time::Duration;

use integration_tests::{bin_dir, eventually, workspace_root, Driver};
use local_stack::StackOptions;
use serde_json::json;

const WAIT: Duration = Duration::from_secs(90);

/// The shipped template with one grant removed: record-login's `dynamodb:GetItem`,
/// which it needs whenever a login is delivered a second time.
fn template_without_record_login_get_item() -> std::path::PathBuf {
    let shipped = std::fs::read_to_string(workspace_root().join("infra/template.yaml")).expect("read template");
    let grant = "                # A redelivered login is compared with the stored one (ensure_same_content).\n                - dynamodb:GetItem\n";
    assert!(shipped.contains(grant), "the grant this test removes is no longer in the template");
    let path = std::env::temp_dir().join(format!("template-no-getitem-{}.yaml", uuid::Uuid::new_v4().simple()));
    std::fs::write(&path, shipped.replace(grant, "")).expect("write template copy");
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_grant_fails_the_call_naming_function_action_and_resource() {
    let template = template_without_record_login_get_item();
    let d = Driver::start_with(
        StackOptions::default()
            .with_bin_dir(bin_dir())
            .with_template(&template)
            .with_env("AWS_MAX_ATTEMPTS", "1")
            .quiet(),
    )
    .await;
    let user = d.unique_user();
    let login =
        json!({"user_id": user, "service_id": "svc", "service_name": "Svc", "timestamp": "2024-03-01T10:00:00Z"});
    d.send_logins(std::slice::from_ref(&login)).await;
    d.wait_drained().await;
    // The same login again: record-login reads the stored one to compare.
    d.send_logins(&[login]).await;
    let dead = eventually("the redelivered login is dead-lettered", WAIT, || async {
        let messages = d.dlq_messages().await;
        (!messages.is_empty()).then_some(messages)
    })
    .await;
    let reason = dead[0].attributes.get("error_reason").cloned().unwrap_or_default();
    let table_arn = d.stack().provisioned().table_arn("ActivityTable").expect("table").to_owned();
    for expected in ["AccessDeniedException", "record-login", "dynamodb:GetItem", table_arn.as_str()] {
        assert!(reason.contains(expected), "reason {reason:?} should name {expected}");
    }
    let calls = d.stack().iam_calls();
    let function = d.stack().provisioned().function_name("RecordLogin").expect("function").to_owned();
    assert!(calls[&function]["dynamodb.GetItem"]["refused"].as_u64() >= Some(1), "{calls}");
    let _ = std::fs::remove_file(template);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shipped_template_grants_what_a_redelivered_login_needs() {
    let d = Driver::start().await;
    let user = d.unique_user();
    let login =
        json!({"user_id": user, "service_id": "svc", "service_name": "Svc", "timestamp": "2024-03-01T10:00:00Z"});
    d.send_logins(std::slice::from_ref(&login)).await;
    d.wait_drained().await;
    d.send_logins(&[login]).await;
    d.wait_drained().await;
    assert!(d.dlq_messages().await.is_empty());
    let function = d.stack().provisioned().function_name("RecordLogin").expect("function").to_owned();
    let calls = d.stack().iam_calls();
    assert!(calls[&function]["dynamodb.GetItem"]["allowed"].as_u64() >= Some(1), "{calls}");
    assert_eq!(calls[&function]["dynamodb.GetItem"]["refused"].as_u64(), Some(0), "{calls}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_access_key_is_refused_as_aws_refuses_it() {
    let d = Driver::start_resources_only().await;
    let config = local_stack::sdk_config(d.stack().proxy_endpoint(), "eu-west-2").await;
    let forged = aws_sdk_dynamodb::config::Builder::from(&config)
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new("AKIAFORGED0000000000", "x", None, None, "t"))
        .build();
    let err = aws_sdk_dynamodb::Client::from_conf(forged)
        .get_item()
        .table_name(d.table("ActivityTable"))
        .key("pk", aws_sdk_dynamodb::types::AttributeValue::S("x".into()))
        .key("sk", aws_sdk_dynamodb::types::AttributeValue::S("x".into()))
        .send()
        .await
        .expect_err("unknown key");
    let code = aws_sdk_dynamodb::error::ProvideErrorMetadata::code(&err).map(str::to_owned);
    assert_eq!(code.as_deref(), Some("UnrecognizedClientException"), "{err:?}");
}

/// SQS with send-txma-event's own credentials, through the proxy.
async fn sqs_as(d: &Driver, logical_id: &str) -> aws_sdk_sqs::Client {
    let function = d.stack().provisioned().function_name(logical_id).expect("function").to_owned();
    let (key, secret) = d.stack().principal_credentials(&function).expect("the function's credentials");
    let config = local_stack::sdk_config(d.stack().proxy_endpoint(), "eu-west-2").await;
    let conf = aws_sdk_sqs::config::Builder::from(&config)
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(key, secret, None, None, "test"))
        .build();
    aws_sdk_sqs::Client::from_conf(conf)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sending_to_the_kms_encrypted_txma_queue_needs_the_key_grant() {
    // Shipped: send-txma-event may use the stand-in TxMA queue's key.
    let d = Driver::start_resources_only().await;
    let txma = d.queue_url("TxmaQueue");
    let sent = sqs_as(&d, "SendTxmaEvent").await.send_message().queue_url(&txma).message_body("{}").send().await;
    assert!(sent.is_ok(), "{sent:?}");
    // Another function with no grant on the queue is refused by IAM first.
    let other = sqs_as(&d, "RecordLogin").await.send_message().queue_url(&txma).message_body("{}").send().await;
    let code = other.as_ref().err().and_then(|e| aws_sdk_sqs::error::ProvideErrorMetadata::code(e).map(str::to_owned));
    assert_eq!(code.as_deref(), Some("AccessDenied"), "{other:?}");
    drop(d);

    // Without the KMS statement, SQS refuses the send as KMS would.
    let shipped = std::fs::read_to_string(workspace_root().join("infra/template.yaml")).expect("read template");
    let grant = "              Action:\n                - kms:GenerateDataKey\n                - kms:Decrypt\n";
    assert!(shipped.contains(grant), "the grant this test removes is no longer in the template");
    let without = shipped.replace(grant, "              Action:\n                - kms:DescribeKey\n");
    let path = std::env::temp_dir().join(format!("template-no-kms-{}.yaml", uuid::Uuid::new_v4().simple()));
    std::fs::write(&path, without).expect("write template copy");
    let d = Driver::start_with(
        StackOptions::default().with_template(&path).without_functions().without_pollers().without_schedules().quiet(),
    )
    .await;
    let txma = d.queue_url("TxmaQueue");
    let refused = sqs_as(&d, "SendTxmaEvent").await.send_message().queue_url(&txma).message_body("{}").send().await;
    let err = refused.expect_err("no kms:GenerateDataKey");
    let code = aws_sdk_sqs::error::ProvideErrorMetadata::code(&err).map(str::to_owned);
    let message = aws_sdk_sqs::error::ProvideErrorMetadata::message(&err).unwrap_or_default().to_owned();
    assert_eq!(code.as_deref(), Some("KMS.AccessDeniedException"), "{err:?}");
    assert!(message.contains("kms:GenerateDataKey") && message.contains("send-txma-event"), "{message}");
    let _ = std::fs::remove_file(path);
}
