//! The environment a function process starts with: what Lambda sets, the
//! template's variables, and the local endpoint in place of AWS.

use std::collections::BTreeMap;

use crate::template::FunctionSpec;

/// Parent variables passed through because they change how a process is
/// debugged or measured, never what it does.
const PASS_THROUGH: &[&str] = &["RUST_BACKTRACE", "RUST_LIB_BACKTRACE", "LLVM_PROFILE_FILE"];

/// What every process of one function shares.
#[derive(Debug, Clone)]
pub struct LaunchSettings {
    /// The endpoint functions reach AWS through (the emulator or the fault proxy).
    pub aws_endpoint: String,
    pub region: String,
    /// Overrides applied last.
    pub extra_env: BTreeMap<String, String>,
    /// The directory holding the binary (LAMBDA_TASK_ROOT).
    pub task_root: String,
    /// Each function's own credentials by logical id (its execution role's,
    /// as Lambda hands them over); a function missing here gets the
    /// emulator's root credentials and is not checked.
    pub credentials: BTreeMap<String, (String, String)>,
}

/// Builds the full environment (the process starts with a clean one, as on
/// Lambda: nothing leaks in from the developer's shell, such as AWS_PROFILE).
pub fn environment(
    spec: &FunctionSpec,
    settings: &LaunchSettings,
    runtime_api_port: u16,
    log_stream: &str,
) -> BTreeMap<String, String> {
    let mut env: BTreeMap<String, String> = BTreeMap::new();
    let mut set = |k: &str, v: &str| {
        env.insert(k.to_owned(), v.to_owned());
    };
    set("PATH", "/usr/local/bin:/usr/bin:/bin");
    set("LANG", "en_US.UTF-8");
    set("TZ", ":UTC");
    for key in PASS_THROUGH {
        if let Ok(value) = std::env::var(key) {
            set(key, &value);
        }
    }
    for (k, v) in &spec.environment {
        set(k, v);
    }
    // Reserved variables: Lambda sets these whatever the template says.
    let log_group = spec.log_group.clone().unwrap_or_else(|| format!("/aws/lambda/{}", spec.function_name));
    set("AWS_ENDPOINT_URL", &settings.aws_endpoint);
    set("AWS_REGION", &settings.region);
    set("AWS_DEFAULT_REGION", &settings.region);
    let (key, secret) =
        settings.credentials.get(&spec.logical_id).map_or(("test", "test"), |(k, s)| (k.as_str(), s.as_str()));
    set("AWS_ACCESS_KEY_ID", key);
    set("AWS_SECRET_ACCESS_KEY", secret);
    set("AWS_LAMBDA_FUNCTION_NAME", &spec.function_name);
    set("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", &spec.memory_mb.to_string());
    set("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST");
    set("AWS_LAMBDA_LOG_GROUP_NAME", &log_group);
    set("AWS_LAMBDA_LOG_STREAM_NAME", log_stream);
    set("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand");
    set("AWS_LAMBDA_RUNTIME_API", &format!("127.0.0.1:{runtime_api_port}"));
    set("_HANDLER", "bootstrap");
    set("LAMBDA_TASK_ROOT", &settings.task_root);
    if let Some(format) = &spec.log_format {
        set("AWS_LAMBDA_LOG_FORMAT", format);
    }
    if let Some(level) = &spec.log_level {
        set("AWS_LAMBDA_LOG_LEVEL", level);
    }
    for (k, v) in &settings.extra_env {
        set(k, v);
    }
    env
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn reserved_variables_win_over_the_template_and_extra_env_wins_last() {
        let spec = FunctionSpec {
            logical_id: "Fn".into(),
            function_name: "local-fn".into(),
            binary: "fn".into(),
            timeout: Duration::from_secs(3),
            memory_mb: 256,
            environment: [("TABLE".to_string(), "t".to_string()), ("AWS_REGION".to_string(), "nope".to_string())]
                .into(),
            log_format: Some("JSON".into()),
            log_level: Some("INFO".into()),
            log_group: None,
            events: vec![],
        };
        let settings = LaunchSettings {
            aws_endpoint: "http://127.0.0.1:9".into(),
            region: "eu-west-2".into(),
            extra_env: [("TABLE".to_string(), "override".to_string())].into(),
            task_root: "/bin".into(),
            credentials: [("Fn".to_string(), ("AKIAFN".to_string(), "s3cret".to_string()))].into(),
        };
        let env = environment(&spec, &settings, 4242, "stream");
        assert_eq!(env["TABLE"], "override");
        assert_eq!(env["AWS_REGION"], "eu-west-2");
        assert_eq!(env["AWS_LAMBDA_RUNTIME_API"], "127.0.0.1:4242");
        assert_eq!(env["AWS_LAMBDA_FUNCTION_NAME"], "local-fn");
        assert_eq!(env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "256");
        assert_eq!(env["AWS_LAMBDA_LOG_FORMAT"], "JSON");
        assert_eq!(env["AWS_LAMBDA_LOG_LEVEL"], "INFO");
        assert_eq!(env["AWS_LAMBDA_LOG_GROUP_NAME"], "/aws/lambda/local-fn");
        assert_eq!(env["AWS_ENDPOINT_URL"], "http://127.0.0.1:9");
        assert_eq!((env["AWS_ACCESS_KEY_ID"].as_str(), env["AWS_SECRET_ACCESS_KEY"].as_str()), ("AKIAFN", "s3cret"));
    }
}
