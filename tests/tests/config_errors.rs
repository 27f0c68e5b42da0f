//! A function started without its configuration stops at once, naming what is missing.

use std::process::Command;

use integration_tests::function_binary;

#[test]
fn record_login_names_every_missing_variable_and_exits_non_zero() {
    let out = Command::new(function_binary("record-login"))
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9") // never reached: config fails first
        .output()
        .expect("start record-login");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert!(stderr.contains("ACTIVITY_TABLE_NAME"), "{stderr}");
    assert!(stderr.contains("DEAD_LETTER_QUEUE_URL"), "{stderr}");
}

#[test]
fn record_login_names_an_invalid_variable() {
    let out = Command::new(function_binary("record-login"))
        .env_clear()
        .env("ACTIVITY_TABLE_NAME", "t")
        .env("DEAD_LETTER_QUEUE_URL", "http://127.0.0.1:9/q")
        .env("MAX_RECEIVE_COUNT", "many")
        .output()
        .expect("start record-login");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert!(stderr.contains("MAX_RECEIVE_COUNT is invalid"), "{stderr}");
}

#[test]
fn query_api_names_its_missing_table() {
    let out = Command::new(function_binary("query-api")).env_clear().output().expect("start query-api");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert!(stderr.contains("ACTIVITY_TABLE_NAME"), "{stderr}");
}
