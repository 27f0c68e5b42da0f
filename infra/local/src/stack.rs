//! `LocalStack`: one handle that starts everything, in order, and stops it all.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use aws_config::SdkConfig;
use serde_json::Value;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::emulator::Emulator;
use crate::error::StackError;
use crate::fakes::{connect_instance_parameter, connect_parameters, fake_parameters, fake_secrets};
use crate::fault_proxy::{self, FaultInjector, Gate, RequestCounter};
use crate::http_api::jwt::{mint_token, JwtError, JwtVerifier, TokenRequest};
use crate::http_api::routes::{Route, RouteTable};
use crate::http_api::{self, HttpApiState};
use crate::iam::{self, Authorizer};
use crate::iot::{self, Broker, IotCore};
use crate::lambda::{self, InvokeError, InvokeOutcome, Invoker, LaunchSettings, Readiness};
use crate::options::{EmulatorMode, StackOptions};
use crate::provision::{ensure_secrets, provision, Provisioned};
use crate::server::{self, serve};
use crate::sources::{ScheduleExpression, ScheduleRunner, SqsPoller};
use crate::template::{
    types, FunctionEvent, FunctionSpec, HttpApiSpec, Resolver, RouteAuthSpec, StackContext, Template,
};
use crate::{fakes, invoke_api, jwt_settings, JwtSettings};

/// The template parameter naming the IoT data endpoint functions publish to.
const IOT_DATA_ENDPOINT_PARAM: &str = "IotDataEndpointUrl";

/// How long `shutdown` waits for each task before aborting it.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// One route of the HTTP API, for summaries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteInfo {
    pub route_key: String,
    pub function: String,
    pub requires_jwt: bool,
}

/// A running local stack. Dropping it stops everything (best effort);
/// `shutdown().await` stops everything and waits.
pub struct LocalStack {
    context: StackContext,
    emulator: Option<Emulator>,
    endpoint: String,
    proxy_endpoint: String,
    http_addr: SocketAddr,
    invoke_addr: SocketAddr,
    zendesk_addr: Option<SocketAddr>,
    notify_addr: Option<SocketAddr>,
    connect_addr: Option<SocketAddr>,
    iot_addr: Option<SocketAddr>,
    iot_authorizers: Vec<String>,
    broker: Arc<Broker>,
    provisioned: Provisioned,
    invoker: Invoker,
    faults: FaultInjector,
    requests: RequestCounter,
    authorizer: Option<Arc<Authorizer>>,
    sdk_config: SdkConfig,
    routes: Vec<RouteInfo>,
    jwt: JwtSettings,
    jwt_secret: String,
    cancel: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for LocalStack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalStack")
            .field("stack", &self.context.stack_name)
            .field("endpoint", &self.endpoint)
            .field("http", &self.http_addr)
            .field("invoke", &self.invoke_addr)
            .finish_non_exhaustive()
    }
}

/// The SDK configuration for an emulator endpoint (test credentials).
pub async fn sdk_config(endpoint: &str, region: &str) -> SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(region.to_owned()))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_sqs::config::Credentials::new("test", "test", None, None, "local-stack"))
        .load()
        .await
}

impl LocalStack {
    /// Starts the third-party fakes and the emulator (or uses an existing
    /// one), provisions the template and its secrets, and starts the fault
    /// proxy, every function, the SQS pollers, the schedules, and the HTTP
    /// and Invoke APIs.
    pub async fn start(options: StackOptions) -> Result<Self, StackError> {
        let started = std::time::Instant::now();
        let template = Template::load(&options.template)?;
        let context = StackContext::new(&options.stack_name, &options.region);

        // Everything spawned from here stops when `cancel` fires; until start
        // succeeds, the guard fires it on any early return.
        let cancel = CancellationToken::new();
        let guard = cancel.clone().drop_guard();
        let mut tasks = Vec::new();

        // The fakes come first: their addresses are template parameters.
        let mut overrides = options.parameter_overrides.clone();
        overrides.extend(iam::principal_parameters(&template, &context.account_id, &options.parameter_overrides));
        // Bound first: Connect calls go through it too (to the Connect fake),
        // so the template's Connect endpoint is the proxy's address.
        let proxy_bound = match options.fault_proxy {
            true => Some(server::bind("AWS fault proxy", SocketAddr::from(([127, 0, 0, 1], 0))).await?),
            false => None,
        };
        let connect_addr = if options.fakes {
            let connect =
                serve("Amazon Connect fake", options.connect_addr, fakes::connect::router(), cancel.clone()).await?;
            let endpoint = proxy_bound.as_ref().map_or(connect.addr, |p| p.addr);
            overrides.extend(connect_parameters(&template, endpoint, &options.parameter_overrides));
            overrides.extend(connect_instance_parameter(
                &template,
                &context.region,
                &context.account_id,
                &options.parameter_overrides,
            ));
            tasks.push(connect.task);
            Some(connect.addr)
        } else {
            None
        };
        let (zendesk_addr, notify_addr) = if options.fakes {
            let zendesk = serve("Zendesk fake", options.zendesk_addr, fakes::zendesk::router(), cancel.clone()).await?;
            let notify =
                serve("GOV.UK Notify fake", options.notify_addr, fakes::notify::router(), cancel.clone()).await?;
            overrides.extend(fake_parameters(&template, zendesk.addr, notify.addr, &options.parameter_overrides));
            let addrs = (Some(zendesk.addr), Some(notify.addr));
            tasks.push(zendesk.task);
            tasks.push(notify.task);
            addrs
        } else {
            (None, None)
        };
        // The identity provider's keys, for the IoT authorizer (`JwtJwksUrl`).
        if options.fakes
            && template.parameters.contains_key(fakes::identity::JWKS_URL_PARAM)
            && !options.parameter_overrides.contains_key(fakes::identity::JWKS_URL_PARAM)
        {
            let identity = serve(
                "identity provider keys",
                SocketAddr::from(([127, 0, 0, 1], 0)),
                fakes::identity::router(&options.jwt_secret),
                cancel.clone(),
            )
            .await?;
            overrides.insert(
                fakes::identity::JWKS_URL_PARAM.to_owned(),
                format!("http://{}{}", identity.addr, fakes::identity::JWKS_PATH),
            );
            tasks.push(identity.task);
        }
        // IoT data-plane calls go through the proxy too (AWS_ENDPOINT_URL_IOT_DATA_PLANE),
        // which checks them and hands them to the local IoT Core.
        if let Some(proxy) = &proxy_bound {
            if template.parameters.contains_key(IOT_DATA_ENDPOINT_PARAM)
                && !options.parameter_overrides.contains_key(IOT_DATA_ENDPOINT_PARAM)
            {
                overrides.insert(IOT_DATA_ENDPOINT_PARAM.to_owned(), format!("http://{}", proxy.addr));
            }
        }
        let iot_listener = match options.run_functions {
            true => Some(iot::bind(options.iot_addr).await?),
            false => None,
        };
        let broker =
            Arc::new(Broker::new(format!("arn:{}:iot:{}:{}", context.partition, context.region, context.account_id)));
        let mut resolver = Resolver::new(&template, context.clone(), &overrides)?;
        // Bound now so `!GetAtt HttpApi.ApiEndpoint` can name it (functions that
        // build links to the API, e.g. in emails, then point at this server).
        let http_bound = server::bind("HTTP API", options.http_addr).await?;

        let (emulator, endpoint) = match &options.emulator {
            EmulatorMode::Spawn { port } => {
                let emulator = Emulator::start(&options.venv, *port).await?;
                let endpoint = emulator.endpoint().to_owned();
                (Some(emulator), endpoint)
            }
            EmulatorMode::Existing { endpoint } => (None, endpoint.trim_end_matches('/').to_owned()),
        };
        let sdk = sdk_config(&endpoint, &context.region).await;
        let provisioned = provision(&template, &mut resolver, &sdk, &endpoint).await?;
        for api in provisioned.of_kind(types::SERVERLESS_HTTP_API) {
            let mut facts = api.facts.clone();
            facts.attributes.insert("ApiEndpoint".to_owned(), format!("http://{}", http_bound.addr));
            resolver.set_facts(&api.logical_id, facts);
        }
        // Secrets exist whether or not the fakes run: functions read them at
        // start, and the caller's own secrets win over the fakes' credentials.
        let mut secrets = fake_secrets(|name| resolver.parameter(name));
        secrets.extend(options.secrets.clone());
        ensure_secrets(&endpoint, &context.region, &secrets).await?;

        let apis = template.http_apis(&resolver)?;
        let specs = function_specs(&template, &resolver, &apis)?;
        let jwt = jwt_settings(&apis);

        let faults = FaultInjector::default();
        let requests = RequestCounter::default();
        let authorizer = match &proxy_bound {
            Some(_) => {
                let functions: Vec<(String, String)> =
                    specs.iter().map(|s| (s.logical_id.clone(), s.function_name.clone())).collect();
                Some(Arc::new(iam::authorizer_for(&template, &resolver, &provisioned, &functions, &endpoint)?))
            }
            None => None,
        };
        let proxy_endpoint = if let Some(bound) = proxy_bound {
            let gate = Gate {
                authorizer: authorizer.clone(),
                connect_upstream: connect_addr.map(|a| format!("http://{a}")),
                time_scale: options.time_scale,
                iot: Some(broker.clone()),
            };
            let router = fault_proxy::router(&endpoint, faults.clone(), requests.clone(), gate)
                .map_err(StackError::HttpClient)?;
            let proxy = server::serve_bound("AWS fault proxy", bound, router, cancel.clone());
            let url = proxy.url();
            tasks.push(proxy.task);
            url
        } else {
            endpoint.clone()
        };
        let credentials = authorizer
            .iter()
            .flat_map(|a| a.principals())
            .filter(|p| p.is_function)
            .map(|p| (p.logical_id.clone(), (p.access_key_id.clone(), p.secret_access_key.clone())))
            .collect();
        if let Some(authorizer) = &authorizer {
            for spec in &specs {
                for event in &spec.events {
                    if let FunctionEvent::Sqs(source) = event {
                        authorizer.check_event_source(&spec.logical_id, &source.queue_arn)?;
                    }
                }
            }
        }

        let invoker = if options.run_functions {
            let settings = LaunchSettings {
                aws_endpoint: proxy_endpoint.clone(),
                region: context.region.clone(),
                extra_env: function_env(&options),
                task_root: options.bin_dir.display().to_string(),
                credentials,
            };
            let service = lambda::start_functions(
                specs.clone(),
                &options.bin_dir,
                &settings,
                &context,
                options.echo_function_logs,
                &cancel,
            )?;
            tasks.extend(service.tasks);
            service.invoker
        } else {
            Invoker::default()
        };

        if options.run_functions && options.run_pollers {
            let sqs = aws_sdk_sqs::Client::new(&sdk);
            for poller in sqs_pollers(&specs, &provisioned, &context, &requests)? {
                tasks.push(tokio::spawn(poller.run(sqs.clone(), invoker.clone(), cancel.clone())));
            }
        }
        let authorizers = iot::authorizers(&template, &resolver, &provisioned)?;
        let iot_authorizers = authorizers.iter().map(|a| a.name.clone()).collect();
        let iot_addr = match iot_listener {
            Some((listener, addr)) => {
                let core = Arc::new(IotCore {
                    broker: broker.clone(),
                    authorizers,
                    invoker: invoker.clone(),
                    host: addr.to_string(),
                });
                tasks.push(iot::serve(core, listener, cancel.clone()));
                Some(addr)
            }
            None => None,
        };
        let schedules = schedule_runners(&specs, &context)?;
        if options.run_functions && options.run_schedules {
            for runner in schedules {
                tasks.push(tokio::spawn(runner.run(invoker.clone(), cancel.clone())));
            }
        }

        let route_table = route_table(&specs);
        let routes = route_table
            .routes()
            .iter()
            .map(|r| RouteInfo {
                route_key: r.route_key.clone(),
                function: r.function.clone(),
                requires_jwt: matches!(r.auth, RouteAuthSpec::Jwt(_) | RouteAuthSpec::Iam),
            })
            .collect();
        let http = server::serve_bound(
            "HTTP API",
            http_bound,
            http_api::router(HttpApiState {
                routes: route_table,
                invoker: invoker.clone(),
                verifier: JwtVerifier::new(&options.jwt_secret),
                account_id: context.account_id.clone(),
                region: context.region.clone(),
                api_id: crate::provision::LOCAL_HTTP_API_ID.to_owned(),
                authorizer: authorizer.clone(),
            }),
            cancel.clone(),
        );
        let invoke = serve(
            "Lambda Invoke API",
            options.invoke_addr,
            invoke_api::router(invoker.clone(), context.clone()),
            cancel.clone(),
        )
        .await?;
        let (http_addr, invoke_addr) = (http.addr, invoke.addr);
        tasks.push(http.task);
        tasks.push(invoke.task);

        if options.run_functions {
            for (function, readiness) in invoker.wait_ready(options.ready_timeout).await {
                match readiness {
                    Readiness::Ready => {}
                    Readiness::Starting => {
                        warn!(%function, timeout = ?options.ready_timeout, "function not ready yet");
                    }
                    Readiness::Failed(error) => warn!(%function, %error, "function init failed"),
                }
            }
        }
        guard.disarm();
        info!(stack = %context.stack_name, elapsed = ?started.elapsed(), "local stack started");
        Ok(Self {
            context,
            emulator,
            endpoint,
            proxy_endpoint,
            http_addr,
            invoke_addr,
            zendesk_addr,
            notify_addr,
            connect_addr,
            iot_addr,
            iot_authorizers,
            broker,
            provisioned,
            invoker,
            faults,
            requests,
            authorizer,
            sdk_config: sdk,
            routes,
            jwt,
            jwt_secret: options.jwt_secret,
            cancel,
            tasks,
        })
    }

    /// The emulator, e.g. `http://127.0.0.1:4566`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The fault proxy functions use as `AWS_ENDPOINT_URL` (the emulator
    /// itself when the proxy is off).
    pub fn proxy_endpoint(&self) -> &str {
        &self.proxy_endpoint
    }

    /// The HTTP API base URL.
    pub fn http_url(&self) -> String {
        format!("http://{}", self.http_addr)
    }

    /// The Lambda Invoke API base URL.
    pub fn invoke_url(&self) -> String {
        format!("http://{}", self.invoke_addr)
    }

    /// The Zendesk fake's base URL (`ZendeskBaseUrl`), if the fakes run.
    pub fn zendesk_url(&self) -> Option<String> {
        self.zendesk_addr.map(|a| format!("http://{a}"))
    }

    /// The GOV.UK Notify fake's base URL (`NotifyBaseUrl`), if the fakes run.
    pub fn notify_url(&self) -> Option<String> {
        self.notify_addr.map(|a| format!("http://{a}"))
    }

    /// The Amazon Connect fake's base URL (`ConnectEndpointUrl`), if the fakes run.
    pub fn connect_url(&self) -> Option<String> {
        self.connect_addr.map(|a| format!("http://{a}"))
    }

    /// IoT Core's MQTT-over-WebSocket URL (`ws://127.0.0.1:4580/mqtt`), if functions run.
    pub fn mqtt_url(&self) -> Option<String> {
        self.iot_addr.map(|a| format!("ws://{a}/mqtt"))
    }

    /// The template's IoT custom authorizers, by name (what clients pass as
    /// `x-amz-customauthorizer-name`).
    pub fn iot_authorizers(&self) -> &[String] {
        &self.iot_authorizers
    }

    /// The local IoT Core's broker (connected clients; publishing as the data plane would).
    pub fn iot_broker(&self) -> &Broker {
        &self.broker
    }

    /// AWS requests by `Service.Operation` since start (or the last reset):
    /// the functions' calls through the fault proxy (none when it is off) and
    /// the SQS event sources' own calls under `ESM:` keys.
    pub fn aws_requests(&self) -> BTreeMap<String, u64> {
        self.requests.snapshot()
    }

    pub fn reset_aws_requests(&self) {
        self.requests.reset();
    }

    /// The IAM authorizer every function call goes through (`None` without the proxy).
    pub fn authorizer(&self) -> Option<&Authorizer> {
        self.authorizer.as_deref()
    }

    /// What IAM saw: `{principal: {"service.Operation": {allowed, refused}}}`.
    pub fn iam_calls(&self) -> serde_json::Value {
        self.authorizer.as_ref().map_or_else(|| serde_json::json!({}), |a| a.ledger_json())
    }

    /// The access key and secret of a principal (a function name, or a
    /// named principal such as `approval-processor`).
    pub fn principal_credentials(&self, name: &str) -> Option<(String, String)> {
        let principal = self.authorizer.as_ref()?.principal_named(name)?;
        Some((principal.access_key_id.clone(), principal.secret_access_key.clone()))
    }

    pub fn context(&self) -> &StackContext {
        &self.context
    }

    /// Physical names, ARNs and URLs by logical id.
    pub fn provisioned(&self) -> &Provisioned {
        &self.provisioned
    }

    /// SDK configuration for the emulator (test credentials, the stack's region).
    pub fn sdk_config(&self) -> &SdkConfig {
        &self.sdk_config
    }

    pub fn invoker(&self) -> &Invoker {
        &self.invoker
    }

    /// Invokes a function by logical id, binary name or function name.
    pub async fn invoke(&self, function: &str, payload: Value) -> Result<InvokeOutcome, InvokeError> {
        self.invoker.invoke(function, payload).await
    }

    /// Queue AWS faults for the functions' calls.
    pub fn faults(&self) -> &FaultInjector {
        &self.faults
    }

    /// Every line a function wrote (empty for an unknown function).
    pub fn function_logs(&self, function: &str) -> Vec<String> {
        self.invoker.logs(function).unwrap_or_default()
    }

    /// Spawn → first `/next` of every process started, by logical id.
    pub fn init_durations(&self) -> BTreeMap<String, Vec<Duration>> {
        self.invoker.init_durations()
    }

    pub fn routes(&self) -> &[RouteInfo] {
        &self.routes
    }

    /// The issuer and audience the HTTP API's JWT authorizer expects.
    pub fn jwt_settings(&self) -> &JwtSettings {
        &self.jwt
    }

    /// A valid bearer token for `user` (one hour).
    pub fn token_for(&self, user: &str) -> Result<String, JwtError> {
        mint_token(
            &self.jwt_secret,
            &TokenRequest {
                subject: user.to_owned(),
                issuer: self.jwt.issuer.clone(),
                audience: self.jwt.audience.clone(),
                ttl: Duration::from_secs(3600),
                claims: BTreeMap::new(),
            },
        )
    }

    /// Time the emulator took to answer, if this stack started it.
    pub fn emulator_started_in(&self) -> Option<Duration> {
        self.emulator.as_ref().map(Emulator::started_in)
    }

    /// Stops every function process, poller, schedule and server, then the
    /// emulator if this stack started it.
    pub async fn shutdown(mut self) {
        self.cancel.cancel();
        for mut task in std::mem::take(&mut self.tasks) {
            if tokio::time::timeout(STOP_GRACE, &mut task).await.is_err() {
                task.abort();
            }
        }
        if let Some(mut emulator) = self.emulator.take() {
            emulator.stop().await;
        }
        info!(stack = %self.context.stack_name, "local stack stopped");
    }
}

/// Where each stack leaves what IAM saw when it stops (one JSON file per
/// stack), so a test run can report every (function, operation) pair it
/// exercised under enforcement.
pub const IAM_LEDGER_DIR_ENV: &str = "LOCAL_STACK_IAM_LEDGER_DIR";

impl LocalStack {
    fn write_iam_ledger(&self) {
        let (Some(dir), Some(authorizer)) = (std::env::var_os(IAM_LEDGER_DIR_ENV), &self.authorizer) else { return };
        let ledger = authorizer.ledger_by_logical_id();
        if ledger.as_object().is_none_or(serde_json::Map::is_empty) {
            return;
        }
        let dir = std::path::PathBuf::from(dir);
        let path = dir.join(format!("{}-{}.json", std::process::id(), uuid::Uuid::new_v4().simple()));
        let written = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, ledger.to_string()));
        if let Err(e) = written {
            warn!(path = %path.display(), error = %e, "cannot write the IAM ledger");
        }
    }
}

impl Drop for LocalStack {
    fn drop(&mut self) {
        self.write_iam_ledger();
        // Best effort without awaiting: the tasks own the child processes
        // (killed when dropped) and the emulator is killed on drop.
        self.cancel.cancel();
        for task in &self.tasks {
            task.abort();
        }
    }
}

fn function_specs(
    template: &Template,
    resolver: &Resolver,
    apis: &BTreeMap<String, HttpApiSpec>,
) -> Result<Vec<FunctionSpec>, StackError> {
    let mut specs = Vec::new();
    for resource in template.resources_of(types::SERVERLESS_FUNCTION) {
        if !resolver.is_enabled(resource) {
            continue;
        }
        let spec = template.function_spec(resource, resolver, apis)?;
        for event in &spec.events {
            if let FunctionEvent::Unsupported { name, kind } = event {
                warn!(function = %spec.logical_id, event = %name, %kind, "event type not emulated locally");
            }
        }
        specs.push(spec);
    }
    Ok(specs)
}

fn sqs_pollers(
    specs: &[FunctionSpec],
    provisioned: &Provisioned,
    ctx: &StackContext,
    requests: &RequestCounter,
) -> Result<Vec<SqsPoller>, StackError> {
    let mut pollers = Vec::new();
    for spec in specs {
        for event in &spec.events {
            let FunctionEvent::Sqs(source) = event else {
                continue;
            };
            if !source.enabled {
                continue;
            }
            let queue = provisioned.queue_by_arn(&source.queue_arn).and_then(|q| q.url.clone()).ok_or_else(|| {
                StackError::EventSourceQueue { function: spec.logical_id.clone(), queue_arn: source.queue_arn.clone() }
            })?;
            pollers.push(SqsPoller {
                function: spec.logical_id.clone(),
                queue_url: queue,
                region: ctx.region.clone(),
                spec: source.clone(),
                requests: requests.clone(),
            });
        }
    }
    Ok(pollers)
}

fn schedule_runners(specs: &[FunctionSpec], ctx: &StackContext) -> Result<Vec<ScheduleRunner>, StackError> {
    let mut runners = Vec::new();
    for spec in specs {
        for event in &spec.events {
            let FunctionEvent::Schedule(schedule) = event else {
                continue;
            };
            let expression: ScheduleExpression = schedule.expression.parse().map_err(|source| {
                StackError::Schedule { function: spec.logical_id.clone(), event: schedule.name.clone(), source }
            })?;
            if schedule.enabled {
                runners.push(ScheduleRunner::new(&spec.logical_id, schedule.clone(), expression, ctx));
            }
        }
    }
    Ok(runners)
}

fn route_table(specs: &[FunctionSpec]) -> RouteTable {
    let routes = specs
        .iter()
        .flat_map(|spec| {
            spec.events.iter().filter_map(move |event| match event {
                FunctionEvent::Http(route) => Some(Route::new(&spec.logical_id, route)),
                _ => None,
            })
        })
        .collect();
    RouteTable::new(routes)
}

/// The environment every function gets on top of the template's: the caller's
/// extras, and the time scale when retries are compressed.
fn function_env(options: &StackOptions) -> BTreeMap<String, String> {
    let mut env = options.extra_env.clone();
    if options.time_scale != kit::retry::TimeScale::REAL {
        env.insert(kit::retry::TIME_SCALE_VAR.to_owned(), options.time_scale.factor().to_string());
    }
    env
}
