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
    /// One workflow: its timeline (`ops workflow <id>`), or a redrive.
    Workflow(WorkflowArgs),
    /// Workflows stuck past their state's limit, per kind (the stuck-detector's
    /// definition and limits, read from the template). Exit status 3 when any.
    Stuck {
        /// One limit for every state instead of the detector's (e.g. 15m, 2h, 90s).
        #[arg(long, value_parser = parse_duration)]
        older_than: Option<std::time::Duration>,
        /// Only these kinds: report, approval, contact, workflow (repeatable).
        #[arg(long, value_parser = parse_kind)]
        kind: Vec<stuck::Kind>,
        /// Redrive every workflow listed (as `ops workflow redrive` does each).
        #[arg(long)]
        redrive: bool,
        /// Redrives per second at most (with --redrive).
        #[arg(long, default_value_t = 5.0)]
        rate: f64,
        /// Who is redriving, as recorded on each item (default: $OPS_USER, else the login name).
        #[arg(long)]
        by: Option<String>,
    },
    /// The topology (queues, topics, subscriptions, functions, DLQs) as a mermaid diagram.
    Graph {
        /// Replace the diagram between the `ops graph` markers of this file (e.g. docs/topology.md).
        #[arg(long)]
        write: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct WorkflowArgs {
    #[command(subcommand)]
    pub command: Option<WorkflowCommand>,
    /// A report, approval request, contact or audited workflow id: its timeline.
    pub id: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum WorkflowCommand {
    /// Rebuild the message of the step a stuck workflow stopped before, from its
    /// stored state, and send it to that step's queue; record the redrive on it.
    Redrive {
        id: String,
        /// Show what would be sent; send nothing.
        #[arg(long)]
        dry_run: bool,
        /// Redrive even if it is still within its state's limit.
        #[arg(long)]
        force: bool,
        /// Who is redriving, as recorded on the item (default: $OPS_USER, else the login name).
        #[arg(long)]
        by: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum DlqCommand {
    /// Every DLQ of the stack with depth, oldest message age and top error reasons.
    List,
    /// A DLQ's messages: reason, step, first seen, receive count, correlation id.
    Show {
        /// The DLQ: its name, its logical id or a part of its name, or the step, or
        /// the queue, whose DLQ it is (`create-zendesk-ticket`, `record-login`).
        queue: String,
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Move messages back to the queue they came from (send first, then delete);
    /// long-polls until the DLQ's counts hold nothing unseen, and says what remains.
    Redrive {
        /// The DLQ, found as in `dlq show`.
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
        /// Seconds each receive waits for a message to arrive (a long poll, at most 20).
        #[arg(long, default_value_t = 5, hide = true)]
        wait_secs: i32,
    },
}

pub fn parse_kind(text: &str) -> Result<stuck::Kind, String> {
    stuck::Kind::parse(text).ok_or_else(|| format!("{text:?} is not a kind (report, approval, contact, workflow)"))
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
