//! Provisions the real infra/template.yaml on a fresh emulator and checks
//! what AWS would have: queues with their DLQ redrive, tables with the LSI
//! and TTL, topics — and that provisioning twice changes nothing.

mod common;

use aws_sdk_dynamodb::types::TimeToLiveStatus;
use aws_sdk_sqs::types::QueueAttributeName;
use local_stack::{LocalStack, StackOptions};
use serde_json::Value;

#[tokio::test]
async fn provisions_the_template_idempotently() {
    let Some(options) = common::options_or_skip("provisions_the_template_idempotently") else {
        return;
    };
    let stack = LocalStack::start(options.without_functions()).await.expect("stack starts");
    eprintln!("emulator started in {:?}", stack.emulator_started_in());
    let p = stack.provisioned();

    // Queues, and the login queue's redrive policy pointing at its DLQ.
    let sqs = aws_sdk_sqs::Client::new(stack.sdk_config());
    let queue_url = p.queue_url("LoginEventsQueue").expect("queue");
    let dlq_arn = p.queue_arn("LoginEventsDlq").expect("dlq");
    assert!(queue_url.ends_with("/local-login-events"), "{queue_url}");
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(queue_url)
        .attribute_names(QueueAttributeName::All)
        .send()
        .await
        .expect("queue attributes")
        .attributes
        .unwrap_or_default();
    assert_eq!(attrs[&QueueAttributeName::VisibilityTimeout], "60");
    let redrive: Value = serde_json::from_str(&attrs[&QueueAttributeName::RedrivePolicy]).expect("redrive json");
    assert_eq!(redrive["deadLetterTargetArn"], dlq_arn);
    // The template's RetryPolicy mapping (the kit's 24-hour policy), resolved by FindInMap.
    assert_eq!(redrive["maxReceiveCount"].as_u64(), Some(u64::from(kit::retry::STANDARD.max_receive_count())));
    assert_eq!(
        attrs[&QueueAttributeName::MessageRetentionPeriod],
        kit::retry::STANDARD.retention().as_secs().to_string(),
        "the source queue keeps a message longer than its longest retry schedule"
    );
    let dlq_attrs = sqs
        .get_queue_attributes()
        .queue_url(p.queue_url("LoginEventsDlq").expect("dlq url"))
        .attribute_names(QueueAttributeName::MessageRetentionPeriod)
        .send()
        .await
        .expect("dlq attributes")
        .attributes
        .unwrap_or_default();
    assert_eq!(dlq_attrs[&QueueAttributeName::MessageRetentionPeriod], "1209600");

    // Tables: the activity table's LSI, the idempotency table's TTL.
    let dynamodb = aws_sdk_dynamodb::Client::new(stack.sdk_config());
    let activity = dynamodb
        .describe_table()
        .table_name(p.table_name("ActivityTable").expect("table"))
        .send()
        .await
        .expect("describe")
        .table
        .expect("table");
    let lsis: Vec<_> = activity.local_secondary_indexes().iter().filter_map(|i| i.index_name()).collect();
    assert_eq!(lsis, ["by-time"]);
    let ttl = dynamodb
        .describe_time_to_live()
        .table_name(p.table_name("IdempotencyTable").expect("table"))
        .send()
        .await
        .expect("ttl")
        .time_to_live_description
        .expect("ttl description");
    assert_eq!(ttl.time_to_live_status(), Some(&TimeToLiveStatus::Enabled));
    assert_eq!(ttl.attribute_name(), Some("expires_at"));

    // Topics; the email subscription is off (its condition is false).
    let sns = aws_sdk_sns::Client::new(stack.sdk_config());
    let topic = p.topic_arn("OnCallTopic").expect("topic");
    assert!(topic.ends_with(":local-on-call"), "{topic}");
    let topics = sns.list_topics().send().await.expect("topics");
    assert!(topics.topics().iter().any(|t| t.topic_arn() == Some(topic)));
    assert!(p.get("OnCallEmailSubscription").is_none());

    // A second run against the same emulator finds the same resources.
    let again = LocalStack::start(
        StackOptions::for_workspace(local_stack::find_workspace_root())
            .quiet()
            .without_functions()
            .with_existing_emulator(stack.endpoint()),
    )
    .await
    .expect("second provisioning");
    assert_eq!(again.provisioned(), stack.provisioned());
    again.shutdown().await;

    // No duplicates: as many queues as the template declares.
    let queues = sqs.list_queues().send().await.expect("list");
    let declared = stack.provisioned().of_kind(local_stack::template::types::SQS_QUEUE).count();
    assert_eq!(queues.queue_urls().len(), declared, "{:?}", queues.queue_urls());
    stack.shutdown().await;
}

/// SNS→SQS fan-out with raw delivery and a filter policy, FIFO queues and
/// topics, an S3 bucket and an SES identity (created with plain HTTP calls).
#[tokio::test]
async fn provisions_fanout_fifo_buckets_and_identities() {
    let Some(options) = common::options_or_skip("provisions_fanout_fifo_buckets_and_identities") else {
        return;
    };
    let options = options.with_template(common::echo_template()).with_stack_name("p").without_functions();
    let stack = LocalStack::start(options.clone().with_secret("p/custom", "first")).await.expect("stack starts");
    let p = stack.provisioned();
    assert!(p.queue_url("OrderedQueue").expect("fifo").ends_with("/p-OrderedQueue.fifo"));
    assert!(p.topic_arn("OrderedTopic").expect("fifo topic").ends_with(":p-OrderedTopic.fifo"));
    assert!(p.get("EchoErrorsAlarm").is_none());

    let sns = aws_sdk_sns::Client::new(stack.sdk_config());
    let sqs = aws_sdk_sqs::Client::new(stack.sdk_config());
    let topic = p.topic_arn("EventsTopic").expect("topic");
    let attribute = |kind: &str| {
        aws_sdk_sns::types::MessageAttributeValue::builder()
            .data_type("String")
            .string_value(kind)
            .build()
            .expect("attribute")
    };
    for (body, kind) in [("skip me", "other"), ("{\"n\":1}", "wanted")] {
        sns.publish()
            .topic_arn(topic)
            .message(body)
            .message_attributes("kind", attribute(kind))
            .send()
            .await
            .expect("publish");
    }
    let received = sqs
        .receive_message()
        .queue_url(p.queue_url("FanoutQueue").expect("queue"))
        .max_number_of_messages(10)
        .wait_time_seconds(1)
        .send()
        .await
        .expect("receive");
    let bodies: Vec<_> = received.messages().iter().filter_map(|m| m.body()).collect();
    assert_eq!(bodies, ["{\"n\":1}"], "raw delivery of the filtered message only");

    // Bucket and identity, read back the way the emulator serves them.
    let http = kit::http::client().expect("http client");
    let auth = |service: &str| {
        format!("AWS4-HMAC-SHA256 Credential=test/20260101/eu-west-2/{service}/aws4_request, SignedHeaders=host, Signature=0")
    };
    let buckets = http
        .get(format!("{}/", stack.endpoint()))
        .header("authorization", auth("s3"))
        .send()
        .await
        .expect("list buckets")
        .text()
        .await
        .expect("text");
    assert!(buckets.contains("<Name>p-bucket</Name>"), "{buckets}");
    let identities = http
        .post(format!("{}/", stack.endpoint()))
        .header("authorization", auth("ses"))
        .form(&[("Action", "ListIdentities"), ("Version", "2010-12-01")])
        .send()
        .await
        .expect("list identities")
        .text()
        .await
        .expect("text");
    assert!(identities.contains("noreply@example.test"), "{identities}");

    // Secrets: the fakes' credentials under the template's names, and our own.
    let secret = |name: &'static str| {
        let (http, endpoint, auth) = (http.clone(), stack.endpoint().to_owned(), auth("secretsmanager"));
        async move {
            let response = http
                .post(format!("{endpoint}/"))
                .header("authorization", auth)
                .header("x-amz-target", "secretsmanager.GetSecretValue")
                .header("content-type", "application/x-amz-json-1.1")
                .body(serde_json::json!({ "SecretId": name }).to_string())
                .send()
                .await
                .expect("get secret");
            assert!(response.status().is_success(), "{name}: {}", response.status());
            let body: Value = response.json().await.expect("json");
            body["SecretString"].as_str().expect("string").to_owned()
        }
    };
    assert_eq!(secret("echo/zendesk-api-token").await, local_stack::LOCAL_ZENDESK_TOKEN);
    assert_eq!(secret("echo/notify-api-key").await, local_stack::LOCAL_NOTIFY_API_KEY);
    assert_eq!(secret("p/custom").await, "first");
    // A second start on the same emulator updates existing secrets.
    let again = LocalStack::start(options.with_existing_emulator(stack.endpoint()).with_secret("p/custom", "second"))
        .await
        .expect("second start");
    assert_eq!(secret("p/custom").await, "second");
    again.shutdown().await;
    stack.shutdown().await;
}
