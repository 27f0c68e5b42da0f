//! The kit's own CPU cost per record, with I/O faked: decode, span, task, settle.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use aws_lambda_events::sqs::{SqsEvent, SqsMessage};
use kit::batch::{BatchRunner, FnStep, Outcome, RecordContext, RunnerConfig};
use kit::decode::JsonBody;
use kit::queue::{DeadLetter, QueueError, QueueOps};

use crate::stats::{cpu_seconds, median};

/// Queue operations that do nothing: only the kit is measured.
struct NoQueues;

#[async_trait]
impl QueueOps for NoQueues {
    async fn extend_visibility(&self, _: &str, _: &str, _: i32) -> Result<(), QueueError> {
        Ok(())
    }
    async fn dead_letter(&self, _: &DeadLetter) -> Result<(), QueueError> {
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("never")]
struct Never;
impl kit::Classify for Never {
    fn class(&self) -> kit::ErrorClass {
        kit::ErrorClass::Permanent
    }
    fn kind(&self) -> &'static str {
        "never"
    }
}

fn batch(n: usize) -> SqsEvent {
    let records = (0..n)
        .map(|i| {
            let mut m = SqsMessage::default();
            m.message_id = Some(format!("m-{i}"));
            m.receipt_handle = Some(format!("rh-{i}"));
            m.body = Some(format!(
                r#"{{"user_id":"123456789","service_id":"svc-{i}","service_name":"A service name","timestamp":"2022-08-04T08:50:39Z","session_id":"s-{i}"}}"#
            ));
            m.attributes = HashMap::from([
                ("ApproximateReceiveCount".to_owned(), "1".to_owned()),
                ("ApproximateFirstReceiveTimestamp".to_owned(), "1700000000000".to_owned()),
            ]);
            m.event_source_arn = Some("arn:aws:sqs:eu-west-2:123456789012:local-login-events".to_owned());
            m
        })
        .collect();
    let mut e = SqsEvent::default();
    e.records = records;
    e
}

pub struct KitOverhead {
    pub wall_us_per_record: f64,
    pub cpu_us_per_record: f64,
    pub runs: usize,
    pub records_per_run: usize,
}

/// Runs `runs` rounds of `batches` batches of 10 on a single-threaded runtime.
pub fn measure(runs: usize, batches: usize) -> anyhow::Result<KitOverhead> {
    // The real telemetry and metrics, writing to a sink: their cost is part of the kit's.
    kit::telemetry::init_with_writer(std::io::sink);
    kit::metrics::init("bench", "bench");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let runner = BatchRunner::new(RunnerConfig::new("bench"), NoQueues);
    let decoder = Arc::new(JsonBody::<activity_shape::RawLogin>::default());
    let step = Arc::new(FnStep(|_ctx: RecordContext, _input: activity_shape::RawLogin| async {
        Ok::<_, Never>(Outcome::Done)
    }));
    let mut wall = Vec::new();
    let mut cpu = Vec::new();
    let records = batches * 10;
    // Warm-up round, not counted.
    rt.block_on(async {
        for _ in 0..batches / 10 {
            runner.run(batch(10), None, decoder.clone(), step.clone()).await;
            kit::metrics::flush_to(std::io::sink());
        }
    });
    for _ in 0..runs {
        let events: Vec<SqsEvent> = (0..batches).map(|_| batch(10)).collect();
        let cpu0 = cpu_seconds();
        let t0 = Instant::now();
        rt.block_on(async {
            for e in events {
                let resp = runner.run(e, None, decoder.clone(), step.clone()).await;
                kit::metrics::flush_to(std::io::sink());
                debug_assert!(resp.batch_item_failures.is_empty());
            }
        });
        wall.push(t0.elapsed().as_secs_f64() * 1e6 / records as f64);
        cpu.push((cpu_seconds() - cpu0) * 1e6 / records as f64);
    }
    Ok(KitOverhead {
        wall_us_per_record: median(&mut wall),
        cpu_us_per_record: median(&mut cpu),
        runs,
        records_per_run: records,
    })
}

/// The login body's shape, as record-login decodes it (kept here so the bench does
/// not measure the domain's validation, only the kit).
mod activity_shape {
    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    pub struct RawLogin {
        pub user_id: String,
        pub service_id: String,
        pub service_name: String,
        pub timestamp: String,
        pub session_id: Option<String>,
    }
}
