//! The test time scale end to end: a visibility change asked for in real
//! seconds through the proxy keeps the message away for that long divided by
//! the factor (on the real emulator, whose launcher keeps the fraction), and a
//! stack in real time keeps it away the whole time.

mod common;

use std::time::{Duration, Instant};

use aws_config::retry::RetryConfig;
use kit::retry::TimeScale;
use local_stack::LocalStack;

async fn start(test: &str, scale: TimeScale) -> Option<LocalStack> {
    let options = common::options_or_skip(test)?
        .with_template(common::echo_template())
        .with_stack_name("ts")
        .without_functions()
        .with_time_scale(scale);
    Some(LocalStack::start(options).await.expect("stack starts"))
}

/// Sends one message to the fanout queue (no consumer), receives it through the
/// proxy, asks for `secs` more invisibility, and returns how long until it is
/// received again (or `None` within `patience`).
async fn away_for(stack: &LocalStack, secs: i32, patience: Duration) -> Option<Duration> {
    let config = local_stack::sdk_config(stack.proxy_endpoint(), &stack.context().region)
        .await
        .into_builder()
        .retry_config(RetryConfig::disabled())
        .build();
    let sqs = aws_sdk_sqs::Client::new(&config);
    let url = stack.provisioned().queue_url("FanoutQueue").expect("queue").to_owned();
    sqs.send_message().queue_url(&url).message_body("m").send().await.expect("send");
    let first = sqs.receive_message().queue_url(&url).wait_time_seconds(5).send().await.expect("receive");
    let receipt = first.messages()[0].receipt_handle().expect("receipt").to_owned();
    sqs.change_message_visibility()
        .queue_url(&url)
        .receipt_handle(receipt)
        .visibility_timeout(secs)
        .send()
        .await
        .expect("visibility change");
    let asked = Instant::now();
    while asked.elapsed() < patience {
        let again = sqs.receive_message().queue_url(&url).wait_time_seconds(1).send().await.expect("receive");
        if !again.messages().is_empty() {
            return Some(asked.elapsed());
        }
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fifteen_minute_wait_lasts_a_six_hundredth_of_it() {
    let Some(stack) = start("time_scale", TimeScale::new(600.0).unwrap()).await else { return };
    let back = away_for(&stack, 900, Duration::from_secs(20)).await.expect("the message came back");
    // 900 s / 600 = 1.5 s: not before (the wait is kept), and well before 900 s.
    assert!(back >= Duration::from_millis(1400), "back after {back:?}");
    assert!(back < Duration::from_secs(10), "back after {back:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_real_time_the_wait_is_kept_whole() {
    let Some(stack) = start("time_scale_real", TimeScale::REAL).await else { return };
    assert_eq!(away_for(&stack, 900, Duration::from_secs(4)).await, None, "a 900 s wait is not over in 4 s");
}

/// Under compressed retries, a backlog of records coming back every second must
/// not starve newer messages: a standard queue keeps no order, on AWS or here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standard_queue_hands_out_its_visible_messages_in_no_fixed_order() {
    let Some(stack) = start("sqs_order", TimeScale::REAL).await else { return };
    let sqs = aws_sdk_sqs::Client::new(stack.sdk_config());
    let url = stack.provisioned().queue_url("FanoutQueue").expect("queue").to_owned();
    for i in 0..50 {
        sqs.send_message().queue_url(&url).message_body(i.to_string()).send().await.expect("send");
    }
    let got = sqs.receive_message().queue_url(&url).max_number_of_messages(10).send().await.expect("receive");
    let mut bodies: Vec<u32> = got.messages().iter().filter_map(|m| m.body()?.parse().ok()).collect();
    bodies.sort_unstable();
    assert_eq!(bodies.len(), 10);
    // The oldest ten, in order, would come with probability 1 in C(50, 10) ≈ 1e-10.
    assert_ne!(bodies, (0..10).collect::<Vec<u32>>(), "the oldest messages always come first");
}
