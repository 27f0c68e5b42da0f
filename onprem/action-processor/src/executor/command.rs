//! Runs a configured program per approved action: the parameters as JSON on stdin;
//! `APPROVAL_REQUEST_ID` (an idempotency key for the program), `APPROVAL_ISSUE_ID`
//! and `APPROVAL_ACTION` in its environment; exit status 0 = EXECUTED, stdout (then
//! stderr) as the output. Killed on timeout or when the processor must stop.

use std::process::Stdio;
use std::time::Duration;

use async_trait::async_trait;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::{Execution, Executor};
use crate::api::Action;

pub struct CommandExecutor {
    program: String,
    args: Vec<String>,
    timeout: Duration,
}

impl CommandExecutor {
    pub fn new(program: String, args: Vec<String>, timeout: Duration) -> Self {
        Self { program, args, timeout }
    }
}

#[async_trait]
impl Executor for CommandExecutor {
    async fn execute(&self, action: &Action, stop: CancellationToken) -> Execution {
        let mut child = match Command::new(&self.program)
            .args(&self.args)
            .env("APPROVAL_REQUEST_ID", &action.request_id)
            .env("APPROVAL_ISSUE_ID", &action.issue_id)
            .env("APPROVAL_ACTION", &action.action)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
        {
            Ok(c) => c,
            Err(e) => return Execution::new(false, format!("could not start the command: {e}")),
        };
        if let Some(mut stdin) = child.stdin.take() {
            let input = action.parameters.to_string();
            if let Err(e) = stdin.write_all(input.as_bytes()).await {
                // The program may not read stdin at all: not a failure by itself.
                warn!(error = %e, "could not write the parameters to the command");
            }
        }
        let pid = child.id();
        info!(request_id = %action.request_id, action = %action.action, pid, "command started");
        tokio::select! {
            out = child.wait_with_output() => match out {
                Ok(out) => {
                    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
                    let stderr = String::from_utf8_lossy(&out.stderr);
                    if !stderr.trim().is_empty() {
                        text.push_str("\n[stderr]\n");
                        text.push_str(&stderr);
                    }
                    let succeeded = out.status.success();
                    if !succeeded {
                        text.push_str(&format!("\n[{}]", out.status));
                    }
                    Execution::new(succeeded, text)
                }
                Err(e) => Execution::new(false, format!("the command could not be waited for: {e}")),
            },
            // Dropping `wait_with_output` drops the child: kill_on_drop ends it.
            () = tokio::time::sleep(self.timeout) => {
                Execution::new(false, format!("timed out after {} s; the command was killed", self.timeout.as_secs()))
            }
            () = stop.cancelled() => {
                Execution::new(false, "stopped: the processor shut down before the command finished; it was killed")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn action() -> Action {
        Action {
            request_id: "r1".into(),
            issue_id: "I-1".into(),
            action: "restart".into(),
            parameters: serde_json::json!({"service": "billing"}),
        }
    }

    fn sh(script: &str, timeout: Duration) -> CommandExecutor {
        CommandExecutor::new("/bin/sh".into(), vec!["-c".into(), script.into()], timeout)
    }

    #[tokio::test]
    async fn the_parameters_arrive_on_stdin_and_the_ids_in_the_environment() {
        let e = sh("printf '%s %s ' \"$APPROVAL_REQUEST_ID\" \"$APPROVAL_ACTION\"; cat", Duration::from_secs(10));
        let out = e.execute(&action(), CancellationToken::new()).await;
        assert!(out.succeeded, "{out:?}");
        assert_eq!(out.output, r#"r1 restart {"service":"billing"}"#);
    }

    #[tokio::test]
    async fn a_non_zero_exit_is_a_failure_with_its_stderr() {
        let out =
            sh("echo broken >&2; exit 3", Duration::from_secs(10)).execute(&action(), CancellationToken::new()).await;
        assert!(!out.succeeded);
        assert!(out.output.contains("broken") && out.output.contains("exit status: 3"), "{}", out.output);
    }

    #[tokio::test]
    async fn a_hung_command_is_killed_at_its_timeout_or_when_told_to_stop() {
        let out = sh("sleep 30", Duration::from_millis(200)).execute(&action(), CancellationToken::new()).await;
        assert!(!out.succeeded && out.output.contains("timed out"), "{out:?}");
        let stop = CancellationToken::new();
        stop.cancel();
        let out = sh("sleep 30", Duration::from_secs(30)).execute(&action(), stop).await;
        assert!(!out.succeeded && out.output.contains("stopped"), "{out:?}");
    }

    #[tokio::test]
    async fn a_missing_program_fails_cleanly() {
        let e = CommandExecutor::new("/nonexistent/program".into(), vec![], Duration::from_secs(1));
        let out = e.execute(&action(), CancellationToken::new()).await;
        assert!(!out.succeeded && out.output.contains("could not start"));
    }
}
