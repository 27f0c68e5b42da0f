//! Provisioning: creates the template's resources on the emulator with API
//! calls (never through the emulator's CloudFormation, which skips
//! subscriptions and TTL), in dependency order, idempotently.

mod dynamodb;
mod kms;
mod order;
mod raw;
mod secrets;
mod sns;
mod sqs;

use std::collections::BTreeMap;
use std::error::Error as StdError;

use aws_config::SdkConfig;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tracing::{debug, info};

use crate::template::{types, Resolver, Resource, ResourceFacts, StackContext, Template, TemplateError};

pub use order::dependency_order;

type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// Why provisioning failed.
#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("{resource}: {operation} failed: {detail}")]
    Aws {
        resource: String,
        operation: &'static str,
        detail: String,
        #[source]
        source: BoxError,
    },
    #[error("{resource}: {reason}")]
    Invalid { resource: String, reason: String },
    #[error("dependency cycle among resources {0:?}")]
    Cycle(Vec<String>),
    #[error("cannot build an HTTP client: {0}")]
    HttpClient(#[source] reqwest::Error),
}

impl ProvisionError {
    /// Wraps an SDK (or HTTP) error, keeping the full context in the message
    /// because SDK errors display only "service error" on their own.
    pub(crate) fn aws<'a, E>(resource: &'a str, operation: &'static str) -> impl FnOnce(E) -> Self + 'a
    where
        E: StdError + Send + Sync + 'static,
    {
        move |err| Self::Aws {
            resource: resource.to_owned(),
            operation,
            detail: aws_sdk_sqs::error::DisplayErrorContext(&err).to_string(),
            source: Box::new(err),
        }
    }

    pub(crate) fn invalid(resource: &str, reason: impl Into<String>) -> Self {
        Self::Invalid { resource: resource.to_owned(), reason: reason.into() }
    }
}

/// What exists locally for one logical id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhysicalResource {
    pub logical_id: String,
    /// The CloudFormation type, e.g. `AWS::SQS::Queue`.
    pub kind: String,
    /// Queue, table, topic, bucket, function or log group name.
    pub name: String,
    pub arn: Option<String>,
    pub url: Option<String>,
    pub stream_arn: Option<String>,
    /// What Ref/GetAtt return for it.
    pub facts: ResourceFacts,
}

/// A logical id that is not a provisioned resource of the expected type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{logical_id} is not a provisioned {expected}")]
pub struct LookupError {
    pub logical_id: String,
    pub expected: &'static str,
}

/// Physical ids of everything provisioned, by logical id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provisioned {
    resources: BTreeMap<String, PhysicalResource>,
}

impl Provisioned {
    pub fn get(&self, logical_id: &str) -> Option<&PhysicalResource> {
        self.resources.get(logical_id)
    }

    pub fn iter(&self) -> impl Iterator<Item = &PhysicalResource> {
        self.resources.values()
    }

    /// Resources of one CloudFormation type.
    pub fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a PhysicalResource> + 'a {
        self.resources.values().filter(move |r| r.kind == kind)
    }

    fn typed(&self, logical_id: &str, kind: &'static str) -> Result<&PhysicalResource, LookupError> {
        self.resources
            .get(logical_id)
            .filter(|r| r.kind == kind)
            .ok_or_else(|| LookupError { logical_id: logical_id.to_owned(), expected: kind })
    }

    fn field<'a>(
        &'a self,
        logical_id: &str,
        kind: &'static str,
        get: impl FnOnce(&'a PhysicalResource) -> Option<&'a str>,
    ) -> Result<&'a str, LookupError> {
        get(self.typed(logical_id, kind)?)
            .ok_or_else(|| LookupError { logical_id: logical_id.to_owned(), expected: kind })
    }

    pub fn queue_url(&self, logical_id: &str) -> Result<&str, LookupError> {
        self.field(logical_id, types::SQS_QUEUE, |r| r.url.as_deref())
    }

    pub fn queue_arn(&self, logical_id: &str) -> Result<&str, LookupError> {
        self.field(logical_id, types::SQS_QUEUE, |r| r.arn.as_deref())
    }

    pub fn queue_name(&self, logical_id: &str) -> Result<&str, LookupError> {
        self.field(logical_id, types::SQS_QUEUE, |r| Some(r.name.as_str()))
    }

    pub fn table_name(&self, logical_id: &str) -> Result<&str, LookupError> {
        self.field(logical_id, types::DYNAMODB_TABLE, |r| Some(r.name.as_str()))
    }

    pub fn table_arn(&self, logical_id: &str) -> Result<&str, LookupError> {
        self.field(logical_id, types::DYNAMODB_TABLE, |r| r.arn.as_deref())
    }

    pub fn table_stream_arn(&self, logical_id: &str) -> Result<&str, LookupError> {
        self.field(logical_id, types::DYNAMODB_TABLE, |r| r.stream_arn.as_deref())
    }

    pub fn topic_arn(&self, logical_id: &str) -> Result<&str, LookupError> {
        self.field(logical_id, types::SNS_TOPIC, |r| r.arn.as_deref())
    }

    pub fn bucket_name(&self, logical_id: &str) -> Result<&str, LookupError> {
        self.field(logical_id, types::S3_BUCKET, |r| Some(r.name.as_str()))
    }

    pub fn function_name(&self, logical_id: &str) -> Result<&str, LookupError> {
        self.field(logical_id, types::SERVERLESS_FUNCTION, |r| Some(r.name.as_str()))
    }

    /// The queue with this ARN (event sources name queues by ARN).
    pub fn queue_by_arn(&self, arn: &str) -> Option<&PhysicalResource> {
        self.of_kind(types::SQS_QUEUE).find(|r| r.arn.as_deref() == Some(arn))
    }

    fn insert(&mut self, resource: PhysicalResource) {
        self.resources.insert(resource.logical_id.clone(), resource);
    }
}

/// The clients provisioning talks to the emulator with.
struct Clients {
    sqs: aws_sdk_sqs::Client,
    dynamodb: aws_sdk_dynamodb::Client,
    sns: aws_sdk_sns::Client,
    raw: raw::RawAws,
}

/// Creates every enabled resource the emulator needs, in dependency order,
/// recording each one's Ref/GetAtt facts in `resolver` as it goes.
pub async fn provision(
    template: &Template,
    resolver: &mut Resolver,
    sdk: &SdkConfig,
    endpoint: &str,
) -> Result<Provisioned, ProvisionError> {
    let clients = Clients {
        sqs: aws_sdk_sqs::Client::new(sdk),
        dynamodb: aws_sdk_dynamodb::Client::new(sdk),
        sns: aws_sdk_sns::Client::new(sdk),
        raw: raw::RawAws::new(endpoint, &resolver.context().region)?,
    };
    let mut provisioned = Provisioned::default();
    for resource in dependency_order(template, resolver)? {
        let physical = provision_one(template, resolver, &clients, resource).await?;
        if let Some(physical) = physical {
            resolver.set_facts(&resource.logical_id, physical.facts.clone());
            provisioned.insert(physical);
        }
    }
    Ok(provisioned)
}

/// Creates (or updates) Secrets Manager secrets, name → string value.
pub async fn ensure_secrets(
    endpoint: &str,
    region: &str,
    secrets: &BTreeMap<String, String>,
) -> Result<(), ProvisionError> {
    let raw = raw::RawAws::new(endpoint, region)?;
    for (name, value) in secrets {
        secrets::ensure_secret(&raw, name, value).await?;
        info!(secret = %name, "provisioned");
    }
    Ok(())
}

async fn provision_one(
    template: &Template,
    resolver: &Resolver,
    clients: &Clients,
    resource: &Resource,
) -> Result<Option<PhysicalResource>, ProvisionError> {
    let id = resource.logical_id.as_str();
    let ctx = resolver.context();
    let props = || -> Result<Value, ProvisionError> {
        resolver
            .resolve(&resource.properties)
            .map(Option::unwrap_or_default)
            .map_err(|source| TemplateError::Resource { resource: id.to_owned(), source }.into())
    };
    let physical = match resource.kind.as_str() {
        types::SQS_QUEUE => Some(sqs::ensure_queue(&clients.sqs, id, &props()?, ctx).await?),
        types::DYNAMODB_TABLE => Some(dynamodb::ensure_table(&clients.dynamodb, id, &props()?, ctx).await?),
        types::SNS_TOPIC => Some(sns::ensure_topic(&clients.sns, id, &props()?, ctx).await?),
        types::SNS_SUBSCRIPTION => sns::ensure_subscription(&clients.sns, id, &props()?).await?,
        types::S3_BUCKET => Some(clients.raw.ensure_bucket(id, &props()?, ctx).await?),
        types::SES_EMAIL_IDENTITY => Some(clients.raw.ensure_email_identity(id, &props()?).await?),
        types::SERVERLESS_FUNCTION => Some(function_facts(template, resolver, resource)?),
        types::SERVERLESS_HTTP_API => Some(http_api_facts(id, ctx)),
        types::LOG_GROUP => Some(log_group_facts(resolver, resource)?),
        types::KMS_KEY if kms::is_emulated(&resource.properties) => {
            Some(kms::ensure_key(&clients.raw, id, &props()?, ctx).await?)
        }
        types::KMS_KEY => Some(kms_key_facts(id, ctx)),
        types::KMS_ALIAS => {
            let props = props()?;
            let text = |name: &str| props.get(name).and_then(Value::as_str).unwrap_or_default().to_owned();
            let target = resource.properties.pointer("/TargetKeyId/Ref").and_then(Value::as_str).unwrap_or_default();
            let on_emulator = resolver.facts(target).is_some_and(|f| f.attributes.contains_key(kms::ON_EMULATOR));
            Some(kms::ensure_alias(&clients.raw, id, &text("AliasName"), &text("TargetKeyId"), on_emulator).await?)
        }
        types::IOT_AUTHORIZER => Some(iot_authorizer_facts(resolver, resource)?),
        other => {
            // Alarms, IAM, queue policies...: the emulator neither needs nor checks them.
            debug!(resource = id, kind = other, "not provisioned locally");
            None
        }
    };
    if let Some(p) = &physical {
        info!(resource = id, kind = %p.kind, name = %p.name, "provisioned");
    }
    Ok(physical)
}

/// A function exists as a process, not on the emulator; its Ref is its name.
fn function_facts(
    template: &Template,
    resolver: &Resolver,
    resource: &Resource,
) -> Result<PhysicalResource, ProvisionError> {
    let id = &resource.logical_id;
    let props = template.function_properties(resource);
    let name = match props.get("FunctionName") {
        Some(v) => resolver
            .required_string("FunctionName", v)
            .map_err(|source| TemplateError::Resource { resource: id.clone(), source })?,
        None => id.clone(),
    };
    let ctx = resolver.context();
    let arn = format!("arn:{}:lambda:{}:{}:function:{name}", ctx.partition, ctx.region, ctx.account_id);
    Ok(PhysicalResource {
        logical_id: id.clone(),
        kind: resource.kind.clone(),
        facts: ResourceFacts { reference: name.clone(), attributes: [("Arn".to_owned(), arn.clone())].into() },
        name,
        arn: Some(arn),
        url: None,
        stream_arn: None,
    })
}

/// What `!Ref` of an `AWS::Serverless::HttpApi` resolves to locally, and the
/// API id in the execute-api ARNs the HTTP API authorises `AWS_IAM` routes
/// against: one fixed id, as there is one API server.
pub const LOCAL_HTTP_API_ID: &str = "local";

fn http_api_facts(id: &str, ctx: &StackContext) -> PhysicalResource {
    let api_id = LOCAL_HTTP_API_ID.to_owned();
    let endpoint = format!("https://{api_id}.execute-api.{}.{}", ctx.region, ctx.url_suffix);
    PhysicalResource {
        logical_id: id.to_owned(),
        kind: types::SERVERLESS_HTTP_API.to_owned(),
        name: api_id.clone(),
        arn: None,
        url: Some(endpoint.clone()),
        stream_arn: None,
        facts: ResourceFacts { reference: api_id, attributes: [("ApiEndpoint".to_owned(), endpoint)].into() },
    }
}

/// Keys are not created: the emulator encrypts nothing, but topics and queues
/// name their key, so the key needs an id and an ARN.
fn kms_key_facts(id: &str, ctx: &StackContext) -> PhysicalResource {
    let key_id = generated_name(ctx, id);
    let arn = format!("arn:{}:kms:{}:{}:key/{key_id}", ctx.partition, ctx.region, ctx.account_id);
    PhysicalResource {
        logical_id: id.to_owned(),
        kind: types::KMS_KEY.to_owned(),
        facts: ResourceFacts {
            reference: key_id.clone(),
            attributes: [("Arn".to_owned(), arn.clone()), ("KeyId".to_owned(), key_id.clone())].into(),
        },
        name: key_id,
        arn: Some(arn),
        url: None,
        stream_arn: None,
    }
}

/// An IoT custom authorizer is served by the local IoT Core (`iot/`), not the
/// emulator; `Ref` is its name, `Arn` `arn:…:iot:{region}:{account}:authorizer/{name}`.
fn iot_authorizer_facts(resolver: &Resolver, resource: &Resource) -> Result<PhysicalResource, ProvisionError> {
    let id = &resource.logical_id;
    let ctx = resolver.context();
    let name = match resource.properties.get("AuthorizerName") {
        Some(v) => resolver
            .required_string("AuthorizerName", v)
            .map_err(|source| TemplateError::Resource { resource: id.clone(), source })?,
        None => generated_name(ctx, id),
    };
    let arn = format!("arn:{}:iot:{}:{}:authorizer/{name}", ctx.partition, ctx.region, ctx.account_id);
    Ok(PhysicalResource {
        logical_id: id.clone(),
        kind: resource.kind.clone(),
        facts: ResourceFacts { reference: name.clone(), attributes: [("Arn".to_owned(), arn.clone())].into() },
        name,
        arn: Some(arn),
        url: None,
        stream_arn: None,
    })
}

/// Log groups are not created (function output goes to the runner's stdout),
/// but functions refer to them by name.
fn log_group_facts(resolver: &Resolver, resource: &Resource) -> Result<PhysicalResource, ProvisionError> {
    let id = &resource.logical_id;
    let ctx = resolver.context();
    let name = match resource.properties.get("LogGroupName") {
        Some(v) => resolver
            .required_string("LogGroupName", v)
            .map_err(|source| TemplateError::Resource { resource: id.clone(), source })?,
        None => format!("{}-{id}", ctx.stack_name),
    };
    let arn = format!("arn:{}:logs:{}:{}:log-group:{name}:*", ctx.partition, ctx.region, ctx.account_id);
    Ok(PhysicalResource {
        logical_id: id.clone(),
        kind: resource.kind.clone(),
        facts: ResourceFacts { reference: name.clone(), attributes: [("Arn".to_owned(), arn.clone())].into() },
        name,
        arn: Some(arn),
        url: None,
        stream_arn: None,
    })
}

/// CloudFormation's generated physical name, made deterministic so that a
/// second run finds the first run's resources.
pub(crate) fn generated_name(ctx: &StackContext, logical_id: &str) -> String {
    format!("{}-{logical_id}", ctx.stack_name)
}

/// A property as the string AWS APIs want (`true`, `60`, ...).
pub(crate) fn attribute_string(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Object(_) | Value::Array(_) => Some(value.to_string()),
        Value::Null => None,
    }
}

pub(crate) fn is_true(value: Option<&Value>) -> bool {
    match value {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}
