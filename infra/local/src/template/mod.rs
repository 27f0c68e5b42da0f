//! The CloudFormation/SAM template: parsing, intrinsic resolution, SAM globals,
//! and typed views of the parts the local stack acts on.

mod globals;
mod model;
mod references;
mod resolve;
mod yaml;

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde_json::{Map, Value};

pub(crate) use model::as_u64;
pub use model::{
    FunctionEvent, FunctionSpec, HttpApiSpec, HttpRouteSpec, JwtAuthorizerSpec, RouteAuthSpec, ScheduleSpec,
    SqsSourceSpec,
};
pub use references::referenced_names;
pub use resolve::{scalar_string, ResolveError, Resolver, ResourceFacts, StackContext, LOCAL_ACCOUNT_ID};

/// Resource types the template model knows by name.
pub mod types {
    pub const SQS_QUEUE: &str = "AWS::SQS::Queue";
    pub const DYNAMODB_TABLE: &str = "AWS::DynamoDB::Table";
    pub const SNS_TOPIC: &str = "AWS::SNS::Topic";
    pub const KMS_KEY: &str = "AWS::KMS::Key";
    pub const KMS_ALIAS: &str = "AWS::KMS::Alias";
    pub const SNS_SUBSCRIPTION: &str = "AWS::SNS::Subscription";
    pub const S3_BUCKET: &str = "AWS::S3::Bucket";
    pub const SES_EMAIL_IDENTITY: &str = "AWS::SES::EmailIdentity";
    pub const SERVERLESS_FUNCTION: &str = "AWS::Serverless::Function";
    pub const SERVERLESS_HTTP_API: &str = "AWS::Serverless::HttpApi";
    pub const LOG_GROUP: &str = "AWS::Logs::LogGroup";
    pub const IOT_AUTHORIZER: &str = "AWS::IoT::Authorizer";
    pub const LAMBDA_PERMISSION: &str = "AWS::Lambda::Permission";
}

/// Why a template could not be read or resolved.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("cannot read template {path}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("template is not valid YAML")]
    Yaml(#[from] serde_yaml_ng::Error),
    #[error("template does not have the CloudFormation shape")]
    Shape(#[source] serde_json::Error),
    #[error("unknown intrinsic tag !{0}")]
    UnknownTag(String),
    #[error("bad !GetAtt argument {0} (expected Resource.Attribute or [Resource, Attribute])")]
    BadGetAtt(String),
    #[error("number {0} cannot be represented")]
    BadNumber(String),
    #[error("mapping key {0} is not a scalar")]
    BadKey(String),
    #[error("resource {resource}: {source}")]
    Resource {
        resource: String,
        #[source]
        source: ResolveError,
    },
    #[error("function {function}: environment variable {variable} cannot be resolved: {source}")]
    Environment {
        function: String,
        variable: String,
        #[source]
        source: ResolveError,
    },
    #[error("function {function}: environment variable {variable} is not a scalar")]
    EnvironmentNotScalar { function: String, variable: String },
    #[error("resource {resource}: property {property} is invalid: {reason}")]
    Property { resource: String, property: String, reason: String },
}

/// One template parameter: its type and default.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Parameter {
    #[serde(rename = "Type", default)]
    pub kind: String,
    #[serde(default)]
    pub default: Option<Value>,
}

/// One resource, with its properties still unresolved.
#[derive(Debug, Clone)]
pub struct Resource {
    pub logical_id: String,
    pub kind: String,
    pub properties: Value,
    pub condition: Option<String>,
    pub metadata: Value,
    pub depends_on: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawResource {
    #[serde(rename = "Type")]
    kind: String,
    #[serde(default)]
    properties: Option<Value>,
    #[serde(default)]
    condition: Option<String>,
    #[serde(default)]
    metadata: Option<Value>,
    #[serde(default)]
    depends_on: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawTemplate {
    #[serde(default)]
    parameters: BTreeMap<String, Parameter>,
    #[serde(default)]
    mappings: Map<String, Value>,
    #[serde(default)]
    conditions: BTreeMap<String, Value>,
    #[serde(default)]
    globals: Map<String, Value>,
    #[serde(default)]
    resources: BTreeMap<String, RawResource>,
    #[serde(default)]
    outputs: Map<String, Value>,
}

/// A parsed template: every intrinsic in long (JSON) form, nothing resolved yet.
#[derive(Debug, Clone)]
pub struct Template {
    pub parameters: BTreeMap<String, Parameter>,
    pub mappings: Map<String, Value>,
    pub conditions: BTreeMap<String, Value>,
    /// `Globals.Function`, merged into every serverless function.
    pub function_globals: Value,
    pub resources: BTreeMap<String, Resource>,
    pub outputs: Map<String, Value>,
}

impl Template {
    /// Reads and parses a template file.
    pub fn load(path: &Path) -> Result<Self, TemplateError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| TemplateError::Read { path: path.display().to_string(), source })?;
        Self::parse(&text)
    }

    /// Parses template text (YAML or JSON; JSON is YAML).
    pub fn parse(text: &str) -> Result<Self, TemplateError> {
        let yaml: serde_yaml_ng::Value = serde_yaml_ng::from_str(text)?;
        let json = yaml::to_json(yaml)?;
        let raw: RawTemplate = serde_json::from_value(json).map_err(TemplateError::Shape)?;
        let resources = raw
            .resources
            .into_iter()
            .map(|(logical_id, r)| {
                let depends_on = match r.depends_on {
                    Some(Value::String(s)) => vec![s],
                    Some(Value::Array(items)) => {
                        items.into_iter().filter_map(|v| v.as_str().map(str::to_owned)).collect()
                    }
                    _ => Vec::new(),
                };
                let resource = Resource {
                    logical_id: logical_id.clone(),
                    kind: r.kind,
                    properties: r.properties.unwrap_or_else(|| Value::Object(Map::new())),
                    condition: r.condition,
                    metadata: r.metadata.unwrap_or(Value::Null),
                    depends_on,
                };
                (logical_id, resource)
            })
            .collect();
        Ok(Self {
            parameters: raw.parameters,
            mappings: raw.mappings,
            conditions: raw.conditions,
            function_globals: raw.globals.get("Function").cloned().unwrap_or(Value::Null),
            resources,
            outputs: raw.outputs,
        })
    }

    /// The properties of a serverless function with `Globals.Function` merged in
    /// (the function's own values win, maps merge, lists append — as SAM does).
    pub fn function_properties(&self, resource: &Resource) -> Value {
        globals::merge(&self.function_globals, &resource.properties)
    }

    /// Resources of one type, in logical-id order.
    pub fn resources_of<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Resource> + 'a {
        self.resources.values().filter(move |r| r.kind == kind)
    }
}
