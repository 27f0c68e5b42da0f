//! The local Lambda service: one process per function, fed through the Lambda
//! Runtime API, restarted when it crashes or times out, as Lambda would.

mod env;
mod exec_clock;
mod logs;
mod runtime_api;
mod supervisor;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::template::{FunctionSpec, StackContext};

pub use env::LaunchSettings;

/// The result of one invocation.
#[derive(Debug, Clone, PartialEq)]
pub enum InvokeOutcome {
    /// The function's response.
    Ok(Value),
    /// An unhandled error: what the runtime posted to `/error`, or the
    /// service's own (`Sandbox.Timedout`, `Runtime.ExitError`, ...).
    FunctionError(Value),
}

impl InvokeOutcome {
    pub fn is_ok(&self) -> bool {
        matches!(self, Self::Ok(_))
    }

    /// `Ok(response)` or `Err(error payload)`.
    pub fn into_result(self) -> Result<Value, Value> {
        match self {
            Self::Ok(v) => Ok(v),
            Self::FunctionError(e) => Err(e),
        }
    }
}

/// Why an invocation could not even be attempted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvokeError {
    #[error("Function not found: {0}")]
    NotFound(String),
    #[error("function {0} is stopped")]
    Stopped(String),
}

/// Whether a function's first process has reached `/next`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    Starting,
    Ready,
    /// Its init failed (and is being retried with a backoff).
    Failed(String),
}

/// One queued invocation.
struct Invocation {
    request_id: String,
    payload: Vec<u8>,
    reply: oneshot::Sender<InvokeOutcome>,
}

/// Everything the processes of one function share.
struct FunctionShared {
    spec: FunctionSpec,
    arn: String,
    queue_tx: mpsc::UnboundedSender<Invocation>,
    /// Taken by whichever `/next` is waiting; one process at a time.
    queue_rx: tokio::sync::Mutex<mpsc::UnboundedReceiver<Invocation>>,
    logs: logs::LogBuffer,
    echo_logs: bool,
    init_durations: Mutex<Vec<Duration>>,
    readiness: watch::Sender<Readiness>,
}

impl FunctionShared {
    fn record_init(&self, duration: Duration) {
        if let Ok(mut d) = self.init_durations.lock() {
            d.push(duration);
        }
        self.readiness.send_replace(Readiness::Ready);
    }

    fn log_line(&self, line: String) {
        if self.echo_logs {
            logs::echo(&self.spec.function_name, &line);
        }
        self.logs.push(line);
    }

    /// Lambda fails the invocation that triggered a failed init; here the
    /// oldest queued one takes that role, so callers see the error instead of
    /// waiting on a function that cannot start.
    fn fail_one_queued(&self, error: &Value) {
        if let Ok(mut rx) = self.queue_rx.try_lock() {
            if let Ok(invocation) = rx.try_recv() {
                let _ = invocation.reply.send(InvokeOutcome::FunctionError(error.clone()));
            }
        }
    }

    /// Refuses new invocations and drops queued ones (their callers get
    /// `InvokeError::Stopped`).
    async fn close(&self) {
        let mut rx = self.queue_rx.lock().await;
        rx.close();
        while rx.try_recv().is_ok() {}
    }
}

/// Which function a name means: logical id, binary name or function name.
#[derive(Default)]
struct Registry {
    functions: BTreeMap<String, Arc<FunctionShared>>,
    aliases: BTreeMap<String, String>,
}

/// Invokes local functions. Cheap to clone.
#[derive(Clone, Default)]
pub struct Invoker {
    registry: Arc<Registry>,
}

impl std::fmt::Debug for Invoker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Invoker").field("functions", &self.registry.functions.keys().collect::<Vec<_>>()).finish()
    }
}

impl Invoker {
    fn find(&self, name: &str) -> Option<&Arc<FunctionShared>> {
        // Invoke accepts ARNs and qualified names too: `...:function:name[:$LATEST]`.
        let name = name.rsplit_once(":function:").map_or(name, |(_, rest)| rest);
        let name = name.split(':').next().unwrap_or(name);
        let registry = &self.registry;
        registry.functions.get(name).or_else(|| registry.aliases.get(name).and_then(|id| registry.functions.get(id)))
    }

    /// Runs one invocation: queued behind earlier ones, served by the
    /// function's process, bounded by the function's timeout.
    pub async fn invoke(&self, function: &str, payload: Value) -> Result<InvokeOutcome, InvokeError> {
        let shared = self.find(function).ok_or_else(|| InvokeError::NotFound(function.to_owned()))?;
        let (reply, outcome) = oneshot::channel();
        let invocation = Invocation {
            request_id: uuid::Uuid::new_v4().to_string(),
            payload: serde_json::to_vec(&payload).unwrap_or_else(|_| b"null".to_vec()),
            reply,
        };
        let stopped = || InvokeError::Stopped(shared.spec.logical_id.clone());
        shared.queue_tx.send(invocation).map_err(|_| stopped())?;
        outcome.await.map_err(|_| stopped())
    }

    /// The spec of a function, by any of its names.
    pub fn spec(&self, function: &str) -> Option<&FunctionSpec> {
        self.find(function).map(|f| &f.spec)
    }

    /// Every function, by logical id.
    pub fn specs(&self) -> impl Iterator<Item = &FunctionSpec> {
        self.registry.functions.values().map(|f| &f.spec)
    }

    /// Every line the function's processes wrote, oldest first.
    pub fn logs(&self, function: &str) -> Option<Vec<String>> {
        self.find(function).map(|f| f.logs.snapshot())
    }

    /// Init durations (spawn → first `/next`) of every process started, by logical id.
    pub fn init_durations(&self) -> BTreeMap<String, Vec<Duration>> {
        self.registry
            .functions
            .iter()
            .map(|(id, f)| {
                let durations = f.init_durations.lock().map(|d| d.clone()).unwrap_or_default();
                (id.clone(), durations)
            })
            .collect()
    }

    pub fn readiness(&self, function: &str) -> Option<Readiness> {
        self.find(function).map(|f| f.readiness.borrow().clone())
    }

    /// Waits until every function is ready or has failed its init, or the
    /// timeout passes; returns where each one got to.
    pub async fn wait_ready(&self, timeout: Duration) -> BTreeMap<String, Readiness> {
        let deadline = tokio::time::Instant::now() + timeout;
        for function in self.registry.functions.values() {
            let mut rx = function.readiness.subscribe();
            // Timing out (or the sender going away) is not an error here: the state
            // each function reached is read and returned below either way.
            if tokio::time::timeout_at(deadline, rx.wait_for(|r| !matches!(r, Readiness::Starting))).await.is_err() {
                tracing::debug!("a function was still starting at the readiness deadline");
            }
        }
        self.registry.functions.iter().map(|(id, f)| (id.clone(), f.readiness.borrow().clone())).collect()
    }
}

/// Why the functions could not be started.
#[derive(Debug, thiserror::Error)]
pub enum LambdaError {
    #[error("function {function}: binary {path} not found (build it with `cargo build -p {binary}`)")]
    BinaryNotFound { function: String, binary: String, path: PathBuf },
}

/// Running functions: the invoker and the supervisor tasks.
pub struct FunctionService {
    pub invoker: Invoker,
    pub tasks: Vec<JoinHandle<()>>,
}

/// Starts one supervised process per function.
pub fn start_functions(
    specs: Vec<FunctionSpec>,
    bin_dir: &std::path::Path,
    settings: &LaunchSettings,
    ctx: &StackContext,
    echo_logs: bool,
    cancel: &CancellationToken,
) -> Result<FunctionService, LambdaError> {
    let mut registry = Registry::default();
    let mut launches = Vec::new();
    for spec in specs {
        let path = bin_dir.join(&spec.binary);
        if !path.is_file() {
            return Err(LambdaError::BinaryNotFound {
                function: spec.logical_id.clone(),
                binary: spec.binary.clone(),
                path,
            });
        }
        let (queue_tx, queue_rx) = mpsc::unbounded_channel();
        let arn =
            format!("arn:{}:lambda:{}:{}:function:{}", ctx.partition, ctx.region, ctx.account_id, spec.function_name);
        for alias in [&spec.binary, &spec.function_name] {
            if alias != &spec.logical_id {
                registry.aliases.insert(alias.clone(), spec.logical_id.clone());
            }
        }
        let shared = Arc::new(FunctionShared {
            arn,
            queue_tx,
            queue_rx: tokio::sync::Mutex::new(queue_rx),
            logs: logs::LogBuffer::default(),
            echo_logs,
            init_durations: Mutex::new(Vec::new()),
            readiness: watch::channel(Readiness::Starting).0,
            spec,
        });
        registry.functions.insert(shared.spec.logical_id.clone(), shared.clone());
        launches.push((shared, path));
    }
    let tasks = launches
        .into_iter()
        .map(|(shared, path)| {
            let mut settings = settings.clone();
            if let Some(dir) = path.parent() {
                settings.task_root = dir.display().to_string();
            }
            tokio::spawn(supervisor::supervise(shared, path, settings, cancel.clone()))
        })
        .collect();
    Ok(FunctionService { invoker: Invoker { registry: Arc::new(registry) }, tasks })
}

/// The error body Lambda reports for failures of its own.
fn service_error(error_type: &str, request_id: Option<&str>, message: &str) -> Value {
    let message = match request_id {
        Some(id) => format!("RequestId: {id} Error: {message}"),
        None => message.to_owned(),
    };
    json!({"errorType": error_type, "errorMessage": message})
}
