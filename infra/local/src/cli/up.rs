//! `local-stack up`: everything on the contract ports until Ctrl-C or SIGTERM.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;
use local_stack::template::types;
use local_stack::{
    LocalStack, StackOptions, CONTRACT_CONNECT_PORT, CONTRACT_EMULATOR_PORT, CONTRACT_HTTP_PORT, CONTRACT_INVOKE_PORT,
    CONTRACT_NOTIFY_PORT, CONTRACT_ZENDESK_PORT, DEFAULT_REGION,
};

use super::state::{self, StackState};

#[derive(Debug, Args)]
pub struct UpArgs {
    /// Region the resources live in.
    #[arg(long, env = "AWS_REGION", default_value = DEFAULT_REGION)]
    region: String,
    /// `AWS::StackName`: prefixes every resource name.
    #[arg(long, default_value = local_stack::DEFAULT_STACK_NAME)]
    stack_name: String,
    /// Template to run (default: infra/template.yaml).
    #[arg(long)]
    template: Option<PathBuf>,
    /// Directory of the function binaries (default: target/debug).
    #[arg(long)]
    bin_dir: Option<PathBuf>,
    /// Template parameter override, `Name=Value` (repeatable).
    #[arg(long = "param", value_parser = parse_pair)]
    params: Vec<(String, String)>,
    /// Once up, play this demo file (see `local-stack demo`), then keep serving.
    #[arg(long)]
    demo: Option<PathBuf>,
}

pub fn parse_pair(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| format!("expected KEY=VALUE, got {text:?}"))
}

pub async fn run(workspace: &Path, args: UpArgs) -> anyhow::Result<ExitCode> {
    if let Some(reason) = already_running(workspace) {
        println!("{reason}");
        return Ok(ExitCode::FAILURE);
    }
    let mut options = StackOptions::for_workspace(workspace)
        .on_contract_ports()
        .with_region(args.region)
        .with_stack_name(args.stack_name);
    if let Some(t) = args.template {
        options = options.with_template(t);
    }
    if let Some(b) = args.bin_dir {
        options = options.with_bin_dir(b);
    }
    for (k, v) in args.params {
        options = options.with_parameter(k, v);
    }
    let stack = LocalStack::start(options).await.context("starting the local stack")?;

    state::write(
        workspace,
        &StackState {
            pid: std::process::id(),
            emulator: stack.endpoint().to_owned(),
            proxy: stack.proxy_endpoint().to_owned(),
            http: stack.http_url(),
            invoke: stack.invoke_url(),
            zendesk: stack.zendesk_url(),
            notify: stack.notify_url(),
            connect: stack.connect_url(),
            mqtt: stack.mqtt_url(),
            iot_authorizer: stack.iot_authorizers().first().cloned(),
            region: stack.context().region.clone(),
            stack_name: stack.context().stack_name.clone(),
            jwt: stack.jwt_settings().clone(),
            resources: stack.provisioned().clone(),
            principals: stack
                .authorizer()
                .into_iter()
                .flat_map(|a| a.principals())
                .filter(|p| !p.is_function)
                .map(|p| {
                    let keys = state::PrincipalKeys {
                        role_arn: p.role_arn.clone(),
                        access_key_id: p.access_key_id.clone(),
                        secret_access_key: p.secret_access_key.clone(),
                    };
                    (p.name.clone(), keys)
                })
                .collect(),
        },
    )?;
    print_summary(&stack);

    if let Some(file) = args.demo {
        let demo_args = super::demo::DemoArgs { file, secret: args_secret() };
        // Ctrl-C during the demo stops everything just the same.
        tokio::select! {
            result = super::demo::run(workspace, &demo_args) => match result {
                Ok(_) => println!("\nDemo done. Serving until Ctrl-C."),
                Err(e) => println!("\nThe demo failed: {e:#}. Serving until Ctrl-C."),
            },
            () = wait_for_stop_signal() => {
                println!("Stopping the local stack...");
                stack.shutdown().await;
                state::remove(workspace);
                println!("Stopped.");
                return Ok(ExitCode::SUCCESS);
            }
        }
    }

    wait_for_stop_signal().await;
    println!("Stopping the local stack...");
    stack.shutdown().await;
    state::remove(workspace);
    println!("Stopped.");
    Ok(ExitCode::SUCCESS)
}

/// The local JWT secret, as `demo` and `token` read it.
fn args_secret() -> String {
    std::env::var("LOCAL_JWT_SECRET")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| local_stack::DEFAULT_JWT_SECRET.to_owned())
}

/// The refusal message when a stack is already up, by pid file or by ports.
fn already_running(workspace: &Path) -> Option<String> {
    let live_pid = state::recorded_pid(workspace).filter(|pid| state::is_alive(*pid) && *pid != std::process::id());
    let busy: Vec<u16> = [
        CONTRACT_EMULATOR_PORT,
        CONTRACT_HTTP_PORT,
        CONTRACT_INVOKE_PORT,
        CONTRACT_ZENDESK_PORT,
        CONTRACT_NOTIFY_PORT,
        CONTRACT_CONNECT_PORT,
    ]
    .into_iter()
    .filter(|port| TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, *port))).is_err())
    .collect();
    if live_pid.is_none() && busy.is_empty() {
        if state::recorded_pid(workspace).is_some() {
            // A stale pid file from a stack that was killed outright.
            state::remove(workspace);
        }
        return None;
    }
    let pid = live_pid.map_or_else(|| "unknown".to_owned(), |p| p.to_string());
    let mut message = format!(
        "A local stack is already running (pid {pid}, emulator on 127.0.0.1:{CONTRACT_EMULATOR_PORT}). Stop it with Ctrl-C in its terminal, or `make stop`."
    );
    if !busy.is_empty() {
        let ports: Vec<String> = busy.iter().map(u16::to_string).collect();
        message.push_str(&format!("\n(in use: port {})", ports.join(", ")));
    }
    Some(message)
}

fn print_summary(stack: &LocalStack) {
    let p = stack.provisioned();
    println!();
    println!("Local stack `{}` is up ({}).", stack.context().stack_name, stack.context().region);
    println!("  emulator     {}   (AWS_ENDPOINT_URL for your shell)", stack.endpoint());
    println!("  fault proxy  {}   (POST /__faults, GET /__requests)", stack.proxy_endpoint());
    println!("  HTTP API     {}", stack.http_url());
    if let Some(authorizer) = stack.authorizer() {
        let mut named: Vec<&str> =
            authorizer.principals().filter(|p| !p.is_function).map(|p| p.name.as_str()).collect();
        named.sort_unstable();
        if !named.is_empty() {
            println!("  IAM principals {}   (SigV4 keys in .local/stack.json)", named.join(", "));
        }
    }
    println!("  Invoke API   {}/2015-03-31/functions/{{name}}/invocations", stack.invoke_url());
    if let Some(url) = stack.zendesk_url() {
        println!("  Zendesk      {url}   (fake; {}, POST /__faults)", local_stack::LOCAL_ZENDESK_EMAIL);
    }
    if let Some(url) = stack.notify_url() {
        println!("  GOV.UK Notify {url}  (fake; template {}, POST /__faults)", local_stack::LOCAL_NOTIFY_TEMPLATE_ID);
    }
    if let Some(url) = stack.connect_url() {
        println!("  Amazon Connect {url} (fake DescribeContact; POST /__contacts, POST /__faults)");
    }
    if let (Some(url), Some(name)) = (stack.mqtt_url(), stack.iot_authorizers().first()) {
        println!(
            "  IoT Core     {url}?x-amz-customauthorizer-name={name}   (MQTT over WebSocket; API token as password)"
        );
    }
    println!("Queues:");
    for q in p.of_kind(types::SQS_QUEUE) {
        println!("  {:<28} {}", q.logical_id, q.url.as_deref().unwrap_or_default());
    }
    println!("Tables:");
    for t in p.of_kind(types::DYNAMODB_TABLE) {
        println!("  {:<28} {}", t.logical_id, t.name);
    }
    println!("Topics:");
    for t in p.of_kind(types::SNS_TOPIC) {
        println!("  {:<28} {}", t.logical_id, t.arn.as_deref().unwrap_or_default());
    }
    println!("Routes:");
    for r in stack.routes() {
        let auth = if r.requires_jwt { "JWT" } else { "open" };
        println!("  {:<36} {:<5} -> {}", r.route_key, auth, r.function);
    }
    println!("Functions (init time):");
    for (function, durations) in stack.init_durations() {
        let init = durations.first().map_or_else(|| "not ready".to_owned(), |d| format!("{} ms", d.as_millis()));
        println!("  {function:<28} {init}");
    }
    println!();
    println!("Ctrl-C (or `local-stack stop`) stops everything.");
}

async fn wait_for_stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "no SIGTERM handler; stopping on Ctrl-C only");
                ctrl_c_or_forever().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        ctrl_c_or_forever().await;
    }
}

/// Waits for Ctrl-C; if no handler can be installed, serves until killed.
async fn ctrl_c_or_forever() {
    if let Err(e) = tokio::signal::ctrl_c().await {
        tracing::warn!(error = %e, "no Ctrl-C handler; stop with `local-stack stop` or a kill");
        std::future::pending::<()>().await;
    }
}
