//! Every function says where its cold start went: one `init` line, written before
//! the runtime's first poll, with the time of each start-up phase.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use integration_tests::function_binary;
use serde_json::Value;

/// Starts `name` with `env` against a Runtime API that never answers, and returns its
/// `init` line (the process is killed once it is read).
fn init_line(name: &str, env: &[(&str, &str)]) -> Value {
    let runtime_api = TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = runtime_api.local_addr().expect("address").to_string();
    let mut child = Command::new(function_binary(name))
        .env_clear()
        .envs(env.iter().copied())
        .envs([
            ("AWS_LAMBDA_RUNTIME_API", address.as_str()),
            ("AWS_LAMBDA_FUNCTION_NAME", name),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
            ("AWS_LAMBDA_LOG_STREAM_NAME", "s"),
            ("AWS_LAMBDA_LOG_GROUP_NAME", "g"),
            ("AWS_REGION", "eu-west-2"),
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("start {name}: {e}"));
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Ok(entry) = serde_json::from_str::<Value>(&line) {
                if entry["message"] == "init" {
                    let _ = tx.send(entry);
                    return;
                }
            }
        }
    });
    let line = rx.recv_timeout(Duration::from_secs(30));
    let _ = child.kill();
    let _ = child.wait();
    line.unwrap_or_else(|_| panic!("{name} wrote no init line"))
}

fn assert_phases(name: &str, line: &Value) {
    for field in ["telemetry_us", "config_us", "metrics_us", "aws_config_us", "wiring_us", "main_us"] {
        assert!(line[field].is_u64(), "{name}: {field} missing in {line}");
    }
    let parts: u64 = ["telemetry_us", "config_us", "metrics_us", "aws_config_us", "wiring_us"]
        .iter()
        .map(|f| line[*f].as_u64().unwrap_or(0))
        .sum();
    assert!(parts <= line["main_us"].as_u64().unwrap_or(0), "{name}: the phases add up to more than main: {line}");
}

#[test]
fn an_sqs_step_logs_its_init_phases_before_its_first_poll() {
    let line =
        init_line("record-login", &[("ACTIVITY_TABLE_NAME", "t"), ("DEAD_LETTER_QUEUE_URL", "http://127.0.0.1:9/q")]);
    assert_phases("record-login", &line);
}

#[test]
fn an_http_api_logs_its_init_phases_before_its_first_poll() {
    let line = init_line("query-api", &[("ACTIVITY_TABLE_NAME", "t"), ("REPORTS_TABLE_NAME", "r")]);
    assert_phases("query-api", &line);
}
