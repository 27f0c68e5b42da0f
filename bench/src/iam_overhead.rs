//! What IAM enforcement adds to each AWS call a function makes on the local
//! stack: the authorizer's decision, timed in process on representative
//! requests (parse, policy evaluation, KMS and resource policies, ledger),
//! without the network or the emulator around it.

use std::time::Instant;

use anyhow::Context as _;
use local_stack::{LocalStack, StackOptions};

use crate::stats::median;

pub struct IamFigures {
    pub runs: usize,
    pub requests_per_run: usize,
    /// Median over runs of the mean decision time, by request kind (µs).
    pub per_kind_us: Vec<(&'static str, f64)>,
    /// Median over runs of the mean over all kinds (µs).
    pub overall_us: f64,
}

struct Sample {
    kind: &'static str,
    parts: axum::http::request::Parts,
    body: Vec<u8>,
}

fn sample(
    kind: &'static str,
    key: &str,
    service: &str,
    headers: &[(&str, &str)],
    path: &str,
    body: &str,
) -> anyhow::Result<Sample> {
    let date = chrono::Utc::now().format("%Y%m%d");
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential={key}/{date}/eu-west-2/{service}/aws4_request, SignedHeaders=host, Signature=0"
    );
    let mut builder = axum::http::Request::builder().method("POST").uri(path).header("authorization", auth);
    for (k, v) in headers {
        builder = builder.header(*k, *v);
    }
    let (parts, ()) = builder.body(())?.into_parts();
    Ok(Sample { kind, parts, body: body.as_bytes().to_vec() })
}

pub async fn measure(workspace: &std::path::Path, runs: usize, requests: usize) -> anyhow::Result<IamFigures> {
    let options =
        StackOptions::for_workspace(workspace).without_functions().without_pollers().without_schedules().quiet();
    let stack = LocalStack::start(options).await?;
    let authorizer = stack.authorizer().context("IAM is off")?;
    let p = stack.provisioned();
    let key = |logical_id: &str| -> anyhow::Result<String> {
        let name = p.function_name(logical_id)?;
        Ok(authorizer.principal_named(name).context("no principal")?.access_key_id.clone())
    };
    let json10 = [("x-amz-target", ""), ("content-type", "application/x-amz-json-1.0")];
    let target = |t: &'static str| [("x-amz-target", t), json10[1]];
    let activity = p.table_name("ActivityTable")?;
    let reports = p.table_name("ReportsTable")?;
    let txma = p.queue_url("TxmaQueue")?;
    let topic = p.topic_arn("ReportRequestedTopic")?;
    let samples = [
        sample(
            "DynamoDB GetItem",
            &key("RecordLogin")?,
            "dynamodb",
            &target("DynamoDB_20120810.GetItem"),
            "/",
            &format!(r#"{{"TableName":"{activity}","Key":{{"pk":{{"S":"u"}},"sk":{{"S":"s"}}}}}}"#),
        )?,
        sample(
            "DynamoDB TransactWriteItems (2 items)",
            &key("MarkReported")?,
            "dynamodb",
            &target("DynamoDB_20120810.TransactWriteItems"),
            "/",
            &format!(
                r#"{{"TransactItems":[{{"Update":{{"TableName":"{activity}"}}}},{{"Put":{{"TableName":"{reports}"}}}}]}}"#
            ),
        )?,
        sample(
            "SQS SendMessage to a KMS-encrypted queue",
            &key("SendTxmaEvent")?,
            "sqs",
            &target("AmazonSQS.SendMessage"),
            "/",
            &format!(r#"{{"QueueUrl":"{txma}","MessageBody":"{{}}"}}"#),
        )?,
        sample(
            "SNS Publish (query protocol)",
            &key("MarkReported")?,
            "sns",
            &[("content-type", "application/x-www-form-urlencoded")],
            "/",
            &format!("Action=Publish&TopicArn={}&Message=%7B%7D", topic.replace(':', "%3A")),
        )?,
        sample(
            "refused: SNS Publish without the grant",
            &key("RecordLogin")?,
            "sns",
            &[("content-type", "application/x-www-form-urlencoded")],
            "/",
            &format!("Action=Publish&TopicArn={}&Message=%7B%7D", topic.replace(':', "%3A")),
        )?,
    ];
    let mut per_kind: Vec<Vec<f64>> = vec![Vec::new(); samples.len()];
    let mut overall = Vec::new();
    for _ in 0..runs {
        let mut total = 0.0;
        for (i, s) in samples.iter().enumerate() {
            let t0 = Instant::now();
            for _ in 0..requests {
                std::hint::black_box(authorizer.authorize(&s.parts, &s.body).await);
            }
            let us = t0.elapsed().as_secs_f64() * 1e6 / requests as f64;
            per_kind[i].push(us);
            total += us;
        }
        overall.push(total / samples.len() as f64);
    }
    stack.shutdown().await;
    Ok(IamFigures {
        runs,
        requests_per_run: requests,
        per_kind_us: samples.iter().zip(per_kind.iter_mut()).map(|(s, v)| (s.kind, median(v))).collect(),
        overall_us: median(&mut overall),
    })
}
