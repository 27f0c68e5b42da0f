//! action-processor: runs until SIGTERM or Ctrl-C, then settles what it holds.

use std::sync::Arc;
use std::time::Duration;

use action_processor::api::HttpApprovalApi;
use action_processor::config::Config;
use action_processor::executor;
use action_processor::run::{run, RunSettings};
use action_processor::source::SqsSource;
use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    kit::telemetry::init();
    let config = kit::config::or_exit(Config::from_env());
    let aws = kit::sdk::aws_config().await;
    let api = match HttpApprovalApi::new(&config.api_url, &config.auth, &aws, config.http_timeout) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("cannot set up the approval API client: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let executor = match executor::from_config(&config) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("cannot set up the executor: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let source = SqsSource::new(aws_sdk_sqs::Client::new(&aws), config.queue_url.clone());
    let settings = RunSettings {
        visibility: config.visibility,
        wait: config.wait,
        max_in_flight: config.max_in_flight,
        shutdown_grace: config.shutdown_grace,
        api_backoff: Duration::from_millis(500),
    };
    let shutdown = CancellationToken::new();
    tokio::spawn(stop_on_signal(shutdown.clone()));
    run(Arc::new(source), Arc::new(api), Arc::new(executor), settings, shutdown).await;
    std::process::ExitCode::SUCCESS
}

/// SIGTERM (systemd, Kubernetes) or Ctrl-C: stop taking work.
async fn stop_on_signal(shutdown: CancellationToken) {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "no SIGTERM handler; stopping on Ctrl-C only");
            if let Err(e) = tokio::signal::ctrl_c().await {
                tracing::error!(error = %e, "no Ctrl-C handler either; stopping now");
            }
        }
    }
    tracing::info!("stop signal received");
    shutdown.cancel();
}
