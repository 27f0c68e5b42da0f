//! record-login against the local emulator: records per second end to end, and the
//! emulator's own per-request cost beside it. (Init, CPU and memory of every
//! function: `functions`.)

use std::path::Path;
use std::time::{Duration, Instant};

use local_stack::{LocalStack, StackOptions};
use serde_json::json;

use crate::stats::median;

pub struct PipelineFigures {
    pub records_per_second: f64,
    pub runs: usize,
    pub records_per_run: usize,
    pub emulator_get_item_ms: f64,
    pub emulator_transact_ms: f64,
    pub emulator_sqs_send_ms: f64,
}

/// Finds the pid of the process running `binary` (the local stack's child).
pub(crate) fn pid_of(binary: &Path) -> Option<u32> {
    let target = std::fs::canonicalize(binary).ok()?;
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|entry| {
        let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
        let exe = std::fs::read_link(entry.path().join("exe")).ok()?;
        (exe == target).then_some(pid)
    })
}

async fn count_activity(ddb: &aws_sdk_dynamodb::Client, table: &str, user: &str) -> usize {
    let mut total = 0usize;
    let mut start = None;
    loop {
        let Ok(out) = ddb
            .query()
            .table_name(table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :e)")
            .expression_attribute_values(":pk", aws_sdk_dynamodb::types::AttributeValue::S(format!("USER#{user}")))
            .expression_attribute_values(":e", aws_sdk_dynamodb::types::AttributeValue::S("EVENT#".into()))
            .select(aws_sdk_dynamodb::types::Select::Count)
            .set_exclusive_start_key(start)
            .send()
            .await
        else {
            return total;
        };
        total += out.count() as usize;
        match out.last_evaluated_key {
            Some(k) if !k.is_empty() => start = Some(k),
            _ => return total,
        }
    }
}

async fn send_logins(sqs: &aws_sdk_sqs::Client, url: &str, user: &str, n: usize) -> anyhow::Result<()> {
    for chunk in (0..n).collect::<Vec<_>>().chunks(10) {
        let mut req = sqs.send_message_batch().queue_url(url);
        for i in chunk {
            let body = json!({"user_id": user, "service_id": format!("svc-{}", i % 7), "service_name": "Bench service",
                              "timestamp": format!("2024-01-01T00:{:02}:{:02}Z", (i / 60) % 60, i % 60), "session_id": format!("s{i}")});
            req = req.entries(
                aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message_body(body.to_string())
                    .build()?,
            );
        }
        req.send().await?;
    }
    Ok(())
}

/// Median latency in ms of `n` sequential calls of `op`.
pub(crate) async fn time_requests<F, Fut>(n: usize, mut op: F) -> f64
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut samples = Vec::with_capacity(n);
    for i in 0..n {
        let t0 = Instant::now();
        op(i).await;
        samples.push(t0.elapsed().as_secs_f64() * 1e3);
    }
    median(&mut samples)
}

pub async fn measure(workspace: &Path, runs: usize, records: usize) -> anyhow::Result<PipelineFigures> {
    let release = workspace.join("target").join("release");
    let options = StackOptions::for_workspace(workspace).with_bin_dir(&release).quiet();
    let stack = LocalStack::start(options).await?;
    let sqs = aws_sdk_sqs::Client::new(stack.sdk_config());
    let ddb = aws_sdk_dynamodb::Client::new(stack.sdk_config());
    let queue = stack.provisioned().queue_url("LoginEventsQueue")?.to_owned();
    let table = stack.provisioned().table_name("ActivityTable")?.to_owned();

    let mut rates = Vec::new();
    for run in 0..runs {
        let user = format!("bench-{run}-{}", std::process::id());
        let t0 = Instant::now();
        send_logins(&sqs, &queue, &user, records).await?;
        let deadline = t0 + Duration::from_secs(600);
        loop {
            if count_activity(&ddb, &table, &user).await >= records
                && local_stack::queues::depth(&sqs, &queue).await.ok() == Some(0)
            {
                break;
            }
            anyhow::ensure!(Instant::now() < deadline, "run {run}: not drained in 10 minutes");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        rates.push(records as f64 / t0.elapsed().as_secs_f64());
    }

    // The emulator alone: the same kinds of request, one at a time.
    let key = |i: usize| {
        std::collections::HashMap::from([
            ("pk".to_owned(), aws_sdk_dynamodb::types::AttributeValue::S(format!("USER#probe-{i}"))),
            ("sk".to_owned(), aws_sdk_dynamodb::types::AttributeValue::S("SERVICE#x".to_owned())),
        ])
    };
    let get_ms = time_requests(100, |i| {
        let (ddb, table) = (ddb.clone(), table.clone());
        async move {
            let _ignored = ddb.get_item().table_name(table).set_key(Some(key(i))).send().await;
        }
    })
    .await;
    let transact_ms = time_requests(100, |i| {
        let (ddb, table) = (ddb.clone(), table.clone());
        async move {
            let update = aws_sdk_dynamodb::types::Update::builder()
                .table_name(&table)
                .set_key(Some(key(i)))
                .update_expression("ADD login_count :one")
                .expression_attribute_values(":one", aws_sdk_dynamodb::types::AttributeValue::N("1".into()))
                .build();
            if let Ok(update) = update {
                let item = aws_sdk_dynamodb::types::TransactWriteItem::builder().update(update).build();
                let _ignored = ddb.transact_write_items().transact_items(item).send().await;
            }
        }
    })
    .await;
    let probe_queue = sqs.create_queue().queue_name("bench-probe").send().await?.queue_url.unwrap_or_default();
    let send_ms = time_requests(100, |i| {
        let (sqs, url) = (sqs.clone(), probe_queue.clone());
        async move {
            let _ignored = sqs.send_message().queue_url(url).message_body(format!("probe {i}")).send().await;
        }
    })
    .await;

    stack.shutdown().await;
    Ok(PipelineFigures {
        records_per_second: median(&mut rates),
        runs,
        records_per_run: records,
        emulator_get_item_ms: get_ms,
        emulator_transact_ms: transact_ms,
        emulator_sqs_send_ms: send_ms,
    })
}
