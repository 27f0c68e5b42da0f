//! Reading the request counters once a workload's last calls are in: the pollers
//! delete a batch's messages after the function returns, so a workflow can look
//! finished a moment before its count is.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use local_stack::fault_proxy::counter::ESM_RECEIVE;
use local_stack::LocalStack;

/// No new request for this long: the workload's calls are all in.
const QUIET: Duration = Duration::from_millis(500);
/// Still counting after this long: the workload is not over.
const DEADLINE: Duration = Duration::from_secs(15);

/// The stack's request counts once they stop changing.
pub async fn settled_requests(stack: &LocalStack) -> anyhow::Result<BTreeMap<String, u64>> {
    settle(|| stack.aws_requests(), QUIET, DEADLINE).await
}

/// Polls `snapshot` until nothing but the pollers' receives changed for `quiet`
/// (an idle poller asks again every 20 s whatever the workload does), and fails
/// if that has not happened by `deadline`: a count read then would be short.
pub async fn settle<F>(mut snapshot: F, quiet: Duration, deadline: Duration) -> anyhow::Result<BTreeMap<String, u64>>
where
    F: FnMut() -> BTreeMap<String, u64>,
{
    let moving = |m: &BTreeMap<String, u64>| -> BTreeMap<String, u64> {
        m.iter().filter(|(k, _)| k.as_str() != ESM_RECEIVE).map(|(k, v)| (k.clone(), *v)).collect()
    };
    let give_up = Instant::now() + deadline;
    let mut last = snapshot();
    let mut unchanged_since = Instant::now();
    loop {
        tokio::time::sleep(quiet / 10).await;
        let now = snapshot();
        if moving(&now) != moving(&last) {
            unchanged_since = Instant::now();
        } else if unchanged_since.elapsed() >= quiet {
            return Ok(now);
        }
        last = now;
        anyhow::ensure!(Instant::now() < give_up, "AWS request counts were still changing after {deadline:?}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    #[tokio::test]
    async fn waits_for_the_last_calls_then_reads_them() {
        let mut calls = 0u64;
        let settled = settle(
            || {
                calls += 1;
                // Deletes keep arriving for the first 5 reads, and idle receives forever.
                counts(&[("ESM:SQS.DeleteMessageBatch", calls.min(5)), (ESM_RECEIVE, calls)])
            },
            Duration::from_millis(50),
            Duration::from_secs(5),
        )
        .await
        .expect("settles");
        assert_eq!(settled["ESM:SQS.DeleteMessageBatch"], 5);
    }

    #[tokio::test]
    async fn a_workload_still_calling_at_the_deadline_is_an_error() {
        let mut calls = 0u64;
        let err = settle(
            || {
                calls += 1;
                counts(&[("DynamoDB.PutItem", calls)])
            },
            Duration::from_millis(50),
            Duration::from_millis(300),
        )
        .await
        .expect_err("never settles");
        assert!(err.to_string().contains("still changing"), "{err}");
    }
}
