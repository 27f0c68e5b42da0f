//! Command-line front end of the local stack.

mod demo;
mod demo_call;
mod demo_mail;
mod demo_process;
mod demo_realtime;
mod demo_steps;
mod state;
mod stop;
mod token;
mod up;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use local_stack::find_workspace_root;

#[derive(Debug, Parser)]
#[command(name = "local-stack", about = "Run infra/template.yaml locally, as AWS would.")]
pub struct Cli {
    /// Workspace root (default: found from the current directory).
    #[arg(long, global = true)]
    workspace: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start the emulator, provision the template, run every function; serve until Ctrl-C.
    Up(up::UpArgs),
    /// Stop the running stack (SIGTERM to the pid in .local/stack.pid).
    Stop,
    /// Print a JWT the local HTTP API accepts.
    Token(token::TokenArgs),
    /// Drive a running stack with a declarative steps file.
    Demo(demo::DemoArgs),
}

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let workspace = cli.workspace.unwrap_or_else(find_workspace_root);
    match cli.command {
        Command::Up(args) => up::run(&workspace, args).await,
        Command::Stop => stop::run(&workspace).await,
        Command::Token(args) => token::run(&workspace, &args),
        Command::Demo(args) => demo::run(&workspace, &args).await,
    }
}

/// Human-readable logs on stderr (function output goes to stdout); `RUST_LOG` overrides.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,aws_config=warn,aws_smithy_runtime=warn"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false).init();
}
