//! The command line.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "ops", about = "DLQs, workflow timelines, stuck workflows and the topology of a workflows stack")]
pub struct Cli {
    #[command(flatten)]
    pub stack: StackArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct StackArgs {
    /// The CloudFormation stack name (the prefix of every queue and table name).
    #[arg(long, global = true, env = "OPS_STACK", default_value = "local")]
    pub stack: String,
    /// The template the stack was deployed from: the list of queues, tables and DLQs.
    #[arg(long, global = true, env = "OPS_TEMPLATE", default_value = "infra/template.yaml")]
    pub template: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Dead-letter queues: list, show, redrive.
    #[command(subcommand)]
    Dlq(DlqCommand),
    /// The timeline of one workflow (a report id).
    Workflow { id: String },
    /// Workflows not finished in time, per system.
    Stuck {
        /// e.g. 15m, 2h, 90s.
        #[arg(long, default_value = "15m", value_parser = parse_duration)]
        older_than: std::time::Duration,
    },
    /// The topology (queues, topics, subscriptions, functions, DLQs) as a mermaid diagram.
    Graph {
        /// Replace the diagram between the `ops graph` markers of this file (e.g. docs/topology.md).
        #[arg(long)]
        write: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum DlqCommand {
    /// Every DLQ of the stack with depth, oldest message age and top error reasons.
    List,
    /// A DLQ's messages: reason, step, first seen, receive count, correlation id.
    Show {
        /// The queue: its name, its logical id in the template, or a part of its name.
        queue: String,
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Move messages back to the queue they came from (send first, then delete).
    Redrive {
        queue: String,
        /// Only messages whose error reason or kind contains this text.
        #[arg(long)]
        reason: Option<String>,
        /// At most this many messages per second.
        #[arg(long)]
        rate: Option<f64>,
        /// Say what would move, move nothing.
        #[arg(long)]
        dry_run: bool,
        /// Seconds a message stays hidden while it is moved (if ops dies, it shows again after this).
        #[arg(long, default_value_t = 120, hide = true)]
        hold_secs: i32,
    },
}

/// `15m`, `2h`, `90s`, `1d`.
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    let (number, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len()));
    let n: u64 = number.parse().map_err(|_| format!("{text:?} is not a duration like 15m"))?;
    let secs = match unit {
        "s" | "" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return Err(format!("unknown unit {unit:?} (s, m, h, d)")),
    };
    Ok(std::time::Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("15m").unwrap().as_secs(), 900);
        assert_eq!(parse_duration("2h").unwrap().as_secs(), 7200);
        assert_eq!(parse_duration("90").unwrap().as_secs(), 90);
        assert!(parse_duration("m").is_err());
        assert!(parse_duration("5y").is_err());
    }
}
