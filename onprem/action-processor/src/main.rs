//! action-processor: runs until SIGTERM or Ctrl-C, then settles what it holds.
//! `action-processor health` reads the health file (`HEALTH_FILE`) the running
//! processor keeps and exits 1 unless it is healthy: for a Kubernetes exec probe,
//! a systemd watchdog script or a monitoring agent.

use std::sync::Arc;

use action_processor::api::HttpApprovalApi;
use action_processor::config::Config;
use action_processor::executor;
use action_processor::health::{self, ApiHealth};
use action_processor::outcomes::OutcomeStore;
use action_processor::run::{run, RunSettings};
use action_processor::source::SqsSource;
use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    if std::env::args().nth(1).as_deref() == Some("health") {
        return health_check();
    }
    kit::telemetry::init();
    let config = kit::config::or_exit(Config::from_env());
    kit::metrics::init(&config.metrics_namespace, "action-processor");
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
    // Refuses to start without a state directory it can write durably: an outcome it
    // could not keep would end "interrupted" after a restart.
    let outcomes = match OutcomeStore::open(&config.state_dir) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("cannot use STATE_DIR: {}", kit::error::chain(&e));
            return std::process::ExitCode::from(2);
        }
    };
    match outcomes.pending() {
        Ok(ids) if !ids.is_empty() => tracing::warn!(
            pending = ids.len(),
            request_ids = ?ids,
            "outcomes kept from before the restart: each is reported when its decision comes back"
        ),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %kit::error::chain(&e), "could not list the kept outcomes"),
    }
    let source = SqsSource::new(aws_sdk_sqs::Client::new(&aws), config.queue_url.clone());
    let settings = RunSettings {
        visibility: config.visibility,
        wait: config.wait,
        max_in_flight: config.max_in_flight,
        shutdown_grace: config.shutdown_grace,
        api_backoff: config.api_backoff,
        api_probe: config.api_probe,
        poll_backoff: config.poll_backoff,
        max_hold: action_processor::config::MAX_HOLD,
        outcomes,
    };
    let shutdown = CancellationToken::new();
    tokio::spawn(stop_on_signal(shutdown.clone()));
    let api_health = Arc::new(ApiHealth::new());
    let stopped = CancellationToken::new();
    let publisher =
        config.health_file.clone().map(|path| tokio::spawn(health::publish(api_health.clone(), path, stopped.clone())));
    run(Arc::new(source), Arc::new(api), Arc::new(executor), api_health, settings, shutdown).await;
    stopped.cancel();
    if let Some(publisher) = publisher {
        if let Err(e) = publisher.await {
            tracing::warn!(error = %e, "the health file writer did not finish");
        }
    }
    std::process::ExitCode::SUCCESS
}

/// `action-processor health`: prints the health report; exit 0 healthy, 1 not (or
/// no report), 2 no `HEALTH_FILE` configured.
fn health_check() -> std::process::ExitCode {
    let mut env = kit::config::Env::from_process();
    let path = env.required("HEALTH_FILE");
    if let Err(e) = env.finish() {
        eprintln!("{e}");
        return std::process::ExitCode::from(2);
    }
    match health::read_report(std::path::Path::new(&path)) {
        Ok(report) => {
            println!("{}", serde_json::to_string(&report).unwrap_or_default());
            if report.healthy {
                std::process::ExitCode::SUCCESS
            } else {
                std::process::ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("unhealthy: {}", kit::error::chain(&e));
            std::process::ExitCode::from(1)
        }
    }
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
