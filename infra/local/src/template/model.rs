//! Typed views of the parts of the template the local stack runs: functions,
//! their event sources, and HTTP APIs with their JWT authorizers.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use super::resolve::{scalar_string, Resolver};
use super::{types, Resource, Template, TemplateError};

/// SAM's default function timeout when neither the function nor Globals set one.
const DEFAULT_TIMEOUT_SECS: u64 = 3;
const DEFAULT_MEMORY_MB: u32 = 128;
const DEFAULT_SQS_BATCH_SIZE: u32 = 10;

/// One `AWS::Serverless::Function`, resolved against the local resources.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionSpec {
    pub logical_id: String,
    /// The resolved `FunctionName`, else the logical id.
    pub function_name: String,
    /// `Metadata.BuildProperties.Binary`, else the logical id.
    pub binary: String,
    pub timeout: Duration,
    pub memory_mb: u32,
    pub environment: BTreeMap<String, String>,
    pub log_format: Option<String>,
    pub log_level: Option<String>,
    pub log_group: Option<String>,
    pub events: Vec<FunctionEvent>,
}

/// One entry of a function's `Events`.
#[derive(Debug, Clone, PartialEq)]
pub enum FunctionEvent {
    Sqs(SqsSourceSpec),
    Http(HttpRouteSpec),
    Schedule(ScheduleSpec),
    /// An event type the local stack does not emulate (logged at start).
    Unsupported {
        name: String,
        kind: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct SqsSourceSpec {
    pub name: String,
    pub queue_arn: String,
    pub batch_size: u32,
    pub batching_window: Duration,
    pub report_batch_item_failures: bool,
    pub maximum_concurrency: Option<u32>,
    pub enabled: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HttpRouteSpec {
    pub name: String,
    /// Logical id of the `AWS::Serverless::HttpApi`, `None` for SAM's implicit API.
    pub api: Option<String>,
    /// Upper-case method, or `ANY`.
    pub method: String,
    /// Path template such as `/users/{user_id}/services`, or `$default`.
    pub path: String,
    pub auth: RouteAuthSpec,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteAuthSpec {
    None,
    Jwt(JwtAuthorizerSpec),
    /// `Authorizer: AWS_IAM`: a SigV4 signature (service `execute-api`), and the
    /// signer's identity policy must allow `execute-api:Invoke` on the route.
    Iam,
}

/// An HTTP API JWT authorizer: what API Gateway checks besides the signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtAuthorizerSpec {
    pub name: String,
    pub issuer: Option<String>,
    pub audiences: Vec<String>,
}

/// One `AWS::Serverless::HttpApi` and its authorizers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpApiSpec {
    pub logical_id: String,
    pub default_authorizer: Option<String>,
    pub authorizers: BTreeMap<String, JwtAuthorizerSpec>,
}

/// A `Schedule` (EventBridge rule) or `ScheduleV2` (EventBridge Scheduler) event.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleSpec {
    pub name: String,
    pub expression: String,
    /// The `Input` JSON, sent instead of the Scheduled Event when present.
    pub input: Option<Value>,
    pub enabled: bool,
    pub scheduler_v2: bool,
}

impl Template {
    /// Every HTTP API with its JWT authorizers, resolved.
    pub fn http_apis(&self, resolver: &Resolver) -> Result<BTreeMap<String, HttpApiSpec>, TemplateError> {
        let mut apis = BTreeMap::new();
        for resource in self.resources_of(types::SERVERLESS_HTTP_API) {
            if !resolver.is_enabled(resource) {
                continue;
            }
            let id = &resource.logical_id;
            let auth = resolve_at(resolver, id, resource.properties.get("Auth"))?;
            let default_authorizer = auth.get("DefaultAuthorizer").and_then(Value::as_str).map(str::to_owned);
            let mut authorizers = BTreeMap::new();
            if let Some(map) = auth.get("Authorizers").and_then(Value::as_object) {
                for (name, def) in map {
                    let Some(jwt) = def.get("JwtConfiguration") else {
                        return Err(TemplateError::Property {
                            resource: id.clone(),
                            property: format!("Auth.Authorizers.{name}"),
                            reason: "only JWT authorizers are emulated locally".into(),
                        });
                    };
                    let issuer = jwt.get("issuer").and_then(scalar_string);
                    let audiences = match jwt.get("audience") {
                        Some(Value::Array(items)) => items.iter().filter_map(scalar_string).collect(),
                        Some(other) => scalar_string(other).into_iter().collect(),
                        None => Vec::new(),
                    };
                    authorizers.insert(name.clone(), JwtAuthorizerSpec { name: name.clone(), issuer, audiences });
                }
            }
            apis.insert(id.clone(), HttpApiSpec { logical_id: id.clone(), default_authorizer, authorizers });
        }
        Ok(apis)
    }

    /// A serverless function with Globals merged and everything resolved.
    /// Every resource it refers to must have its facts in the resolver.
    pub fn function_spec(
        &self,
        resource: &Resource,
        resolver: &Resolver,
        apis: &BTreeMap<String, HttpApiSpec>,
    ) -> Result<FunctionSpec, TemplateError> {
        let id = &resource.logical_id;
        let props = self.function_properties(resource);
        let function_name = match props.get("FunctionName") {
            Some(v) => resolver
                .required_string("FunctionName", v)
                .map_err(|source| TemplateError::Resource { resource: id.clone(), source })?,
            None => id.clone(),
        };
        let binary = resource
            .metadata
            .pointer("/BuildProperties/Binary")
            .and_then(Value::as_str)
            .map_or_else(|| id.clone(), str::to_owned);
        let timeout_secs = number_at(resolver, id, &props, "Timeout")?.unwrap_or(DEFAULT_TIMEOUT_SECS);
        let memory_mb = number_at(resolver, id, &props, "MemorySize")?
            .map_or(DEFAULT_MEMORY_MB, |m| u32::try_from(m).unwrap_or(u32::MAX));
        let logging = resolve_at(resolver, id, props.get("LoggingConfig"))?;
        let text = |key: &str| logging.get(key).and_then(scalar_string);
        let events = match props.get("Events").and_then(Value::as_object) {
            Some(events) => events
                .iter()
                .map(|(name, event)| event_spec(resolver, id, name, event, apis))
                .collect::<Result<Vec<_>, _>>()?,
            None => Vec::new(),
        };
        Ok(FunctionSpec {
            logical_id: id.clone(),
            function_name,
            binary,
            timeout: Duration::from_secs(timeout_secs),
            memory_mb,
            environment: environment(resolver, id, &props)?,
            log_format: text("LogFormat"),
            log_level: text("ApplicationLogLevel"),
            log_group: text("LogGroup"),
            events,
        })
    }
}

fn environment(resolver: &Resolver, function: &str, props: &Value) -> Result<BTreeMap<String, String>, TemplateError> {
    let mut env = BTreeMap::new();
    let Some(vars) = props.pointer("/Environment/Variables").and_then(Value::as_object) else {
        return Ok(env);
    };
    for (name, raw) in vars {
        let resolved = resolver.resolve(raw).map_err(|source| TemplateError::Environment {
            function: function.to_owned(),
            variable: name.clone(),
            source,
        })?;
        // `!Ref AWS::NoValue` removes the variable, as CloudFormation does.
        let Some(value) = resolved else { continue };
        let value = scalar_string(&value).ok_or_else(|| TemplateError::EnvironmentNotScalar {
            function: function.to_owned(),
            variable: name.clone(),
        })?;
        env.insert(name.clone(), value);
    }
    Ok(env)
}

fn event_spec(
    resolver: &Resolver,
    function: &str,
    name: &str,
    event: &Value,
    apis: &BTreeMap<String, HttpApiSpec>,
) -> Result<FunctionEvent, TemplateError> {
    let kind = event.get("Type").and_then(Value::as_str).unwrap_or_default();
    let raw_props = event.get("Properties").cloned().unwrap_or(Value::Null);
    let where_ = format!("{function}.Events.{name}");
    match kind {
        "SQS" => {
            let props = resolve_at(resolver, &where_, Some(&raw_props))?;
            let queue_arn = props
                .get("Queue")
                .and_then(scalar_string)
                .ok_or_else(|| property_error(&where_, "Queue", "missing"))?;
            let window = props.get("MaximumBatchingWindowInSeconds").and_then(as_u64).unwrap_or(0);
            Ok(FunctionEvent::Sqs(SqsSourceSpec {
                name: name.to_owned(),
                queue_arn,
                batch_size: props
                    .get("BatchSize")
                    .and_then(as_u64)
                    .map_or(DEFAULT_SQS_BATCH_SIZE, |b| u32::try_from(b).unwrap_or(u32::MAX)),
                batching_window: Duration::from_secs(window),
                report_batch_item_failures: props
                    .get("FunctionResponseTypes")
                    .and_then(Value::as_array)
                    .is_some_and(|types| types.iter().any(|t| t.as_str() == Some("ReportBatchItemFailures"))),
                maximum_concurrency: props
                    .pointer("/ScalingConfig/MaximumConcurrency")
                    .and_then(as_u64)
                    .and_then(|c| u32::try_from(c).ok()),
                enabled: props.get("Enabled").and_then(as_bool).unwrap_or(true),
            }))
        }
        "HttpApi" => {
            // The API is named by `ApiId: !Ref Api`; read the logical id itself
            // rather than its (meaningless locally) physical id.
            let api = raw_props.pointer("/ApiId/Ref").and_then(Value::as_str).map(str::to_owned);
            let mut stripped = raw_props.clone();
            if let Some(map) = stripped.as_object_mut() {
                map.remove("ApiId");
            }
            let props = resolve_at(resolver, &where_, Some(&stripped))?;
            let path = props.get("Path").and_then(scalar_string).unwrap_or_else(|| "$default".to_owned());
            let method = props
                .get("Method")
                .and_then(scalar_string)
                .map_or_else(|| "ANY".to_owned(), |m| m.to_ascii_uppercase());
            let api_spec = api.as_ref().and_then(|a| apis.get(a));
            let authorizer = match props.pointer("/Auth/Authorizer").and_then(Value::as_str) {
                Some("NONE") => None,
                Some(named) => Some(named.to_owned()),
                None => api_spec.and_then(|a| a.default_authorizer.clone()),
            };
            let auth = match authorizer {
                None => RouteAuthSpec::None,
                Some(iam) if iam == "AWS_IAM" => RouteAuthSpec::Iam,
                Some(authorizer) => {
                    let spec = api_spec.and_then(|a| a.authorizers.get(&authorizer)).ok_or_else(|| {
                        property_error(&where_, "Auth.Authorizer", &format!("unknown authorizer {authorizer}"))
                    })?;
                    RouteAuthSpec::Jwt(spec.clone())
                }
            };
            Ok(FunctionEvent::Http(HttpRouteSpec { name: name.to_owned(), api, method, path, auth }))
        }
        "Schedule" | "ScheduleV2" => {
            let props = resolve_at(resolver, &where_, Some(&raw_props))?;
            let v2 = kind == "ScheduleV2";
            let key = if v2 { "ScheduleExpression" } else { "Schedule" };
            let expression =
                props.get(key).and_then(scalar_string).ok_or_else(|| property_error(&where_, key, "missing"))?;
            let input = match props.get("Input").and_then(Value::as_str) {
                Some(text) => Some(
                    serde_json::from_str(text)
                        .map_err(|e| property_error(&where_, "Input", &format!("not JSON: {e}")))?,
                ),
                None => None,
            };
            let enabled = props.get("Enabled").and_then(as_bool).unwrap_or(true)
                && props.get("State").and_then(Value::as_str) != Some("DISABLED");
            Ok(FunctionEvent::Schedule(ScheduleSpec {
                name: name.to_owned(),
                expression,
                input,
                enabled,
                scheduler_v2: v2,
            }))
        }
        other => Ok(FunctionEvent::Unsupported { name: name.to_owned(), kind: other.to_owned() }),
    }
}

fn property_error(resource: &str, property: &str, reason: &str) -> TemplateError {
    TemplateError::Property { resource: resource.to_owned(), property: property.to_owned(), reason: reason.to_owned() }
}

/// Resolves an optional sub-tree; absent or `AWS::NoValue` becomes `null`.
fn resolve_at(resolver: &Resolver, resource: &str, value: Option<&Value>) -> Result<Value, TemplateError> {
    let Some(value) = value else {
        return Ok(Value::Null);
    };
    resolver
        .resolve(value)
        .map(Option::unwrap_or_default)
        .map_err(|source| TemplateError::Resource { resource: resource.to_owned(), source })
}

fn number_at(resolver: &Resolver, resource: &str, props: &Value, key: &str) -> Result<Option<u64>, TemplateError> {
    let value = resolve_at(resolver, resource, props.get(key))?;
    if value.is_null() {
        return Ok(None);
    }
    as_u64(&value).map(Some).ok_or_else(|| property_error(resource, key, "not a non-negative integer"))
}

/// Numbers arrive as numbers or (from parameters) as strings.
pub(crate) fn as_u64(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

pub(crate) fn as_bool(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::{ResourceFacts, StackContext};

    const TEMPLATE: &str = r#"
Parameters:
  Issuer:
    Type: String
    Default: https://issuer/
Globals:
  Function:
    Timeout: 10
    MemorySize: 256
    LoggingConfig:
      LogFormat: JSON
      ApplicationLogLevel: INFO
    Environment:
      Variables:
        STACK: !Sub "${AWS::StackName}"
        SHARED: global
Resources:
  Queue:
    Type: AWS::SQS::Queue
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      Auth:
        DefaultAuthorizer: Jwt
        Authorizers:
          Jwt:
            JwtConfiguration:
              issuer: !Ref Issuer
              audience: [aud1]
  Fn:
    Type: AWS::Serverless::Function
    Metadata:
      BuildProperties:
        Binary: my-bin
    Properties:
      FunctionName: !Sub "${AWS::StackName}-fn"
      Timeout: 3
      Environment:
        Variables:
          QUEUE_URL: !Ref Queue
          SHARED: local
      Events:
        Q:
          Type: SQS
          Properties:
            Queue: !GetAtt Queue.Arn
            BatchSize: 5
            FunctionResponseTypes: [ReportBatchItemFailures]
        Get:
          Type: HttpApi
          Properties:
            ApiId: !Ref Api
            Path: /things/{id}
            Method: get
        Open:
          Type: HttpApi
          Properties:
            ApiId: !Ref Api
            Path: /healthz
            Method: GET
            Auth:
              Authorizer: NONE
        Service:
          Type: HttpApi
          Properties:
            ApiId: !Ref Api
            Path: /service
            Method: POST
            Auth:
              Authorizer: AWS_IAM
        Tick:
          Type: Schedule
          Properties:
            Schedule: rate(5 minutes)
  Broken:
    Type: AWS::Serverless::Function
    Properties:
      Environment:
        Variables:
          MISSING: !Ref Nowhere
"#;

    fn setup() -> (Template, Resolver) {
        let template = Template::parse(TEMPLATE).expect("template");
        let mut resolver =
            Resolver::new(&template, StackContext::new("s", "eu-west-2"), &BTreeMap::new()).expect("resolver");
        resolver.set_facts(
            "Queue",
            ResourceFacts {
                reference: "http://q/s-Queue".into(),
                attributes: [("Arn".to_string(), "arn:q".to_string())].into(),
            },
        );
        resolver.set_facts("Api", ResourceFacts { reference: "local".into(), attributes: BTreeMap::new() });
        (template, resolver)
    }

    #[test]
    fn function_spec_merges_globals_and_resolves_everything() {
        let (template, resolver) = setup();
        let apis = template.http_apis(&resolver).expect("apis");
        let spec = template.function_spec(&template.resources["Fn"], &resolver, &apis).expect("spec");
        assert_eq!(spec.function_name, "s-fn");
        assert_eq!(spec.binary, "my-bin");
        assert_eq!(spec.timeout, Duration::from_secs(3));
        assert_eq!(spec.memory_mb, 256);
        assert_eq!(spec.log_format.as_deref(), Some("JSON"));
        assert_eq!(spec.log_level.as_deref(), Some("INFO"));
        assert_eq!(spec.environment["STACK"], "s");
        assert_eq!(spec.environment["SHARED"], "local");
        assert_eq!(spec.environment["QUEUE_URL"], "http://q/s-Queue");
        let sqs = spec.events.iter().find_map(|e| match e {
            FunctionEvent::Sqs(s) => Some(s),
            _ => None,
        });
        let sqs = sqs.expect("sqs event");
        assert_eq!(sqs.queue_arn, "arn:q");
        assert_eq!(sqs.batch_size, 5);
        assert!(sqs.report_batch_item_failures);
        let routes: Vec<_> = spec
            .events
            .iter()
            .filter_map(|e| match e {
                FunctionEvent::Http(r) => Some(r),
                _ => None,
            })
            .collect();
        let get = routes.iter().find(|r| r.name == "Get").expect("Get route");
        assert_eq!(get.method, "GET");
        assert!(
            matches!(&get.auth, RouteAuthSpec::Jwt(j) if j.issuer.as_deref() == Some("https://issuer/") && j.audiences == ["aud1"])
        );
        let open = routes.iter().find(|r| r.name == "Open").expect("Open route");
        assert_eq!(open.auth, RouteAuthSpec::None);
        let service = routes.iter().find(|r| r.name == "Service").expect("Service route");
        assert_eq!(service.auth, RouteAuthSpec::Iam, "an AWS_IAM route is IAM, not the default JWT authorizer");
    }

    #[test]
    fn unresolvable_environment_names_function_and_variable() {
        let (template, resolver) = setup();
        let err =
            template.function_spec(&template.resources["Broken"], &resolver, &BTreeMap::new()).expect_err("must fail");
        let text = err.to_string();
        assert!(text.contains("Broken") && text.contains("MISSING") && text.contains("Nowhere"), "{text}");
    }
}
