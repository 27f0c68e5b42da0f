//! The local stack: reads `infra/template.yaml` and does what AWS would with
//! it, on this machine, importing no code of the systems it runs.
//!
//! - provisions the template's queues, tables, topics, subscriptions,
//!   buckets and SES identities on the emulator (moto server) with API calls;
//! - is the Lambda service: runs each function's real binary as a child
//!   process speaking the Lambda Runtime API, recycles it on timeout or crash;
//! - is the event source mappings: polls SQS with the template's batch
//!   settings and honours partial batch responses; fires schedules;
//! - is API Gateway: HTTP API v2.0 events, with local HS256 JWTs in place of
//!   the identity provider and SigV4 plus IAM policies on `AWS_IAM` routes;
//!   and the Lambda Invoke API;
//! - puts a fault-injection proxy between the functions and the emulator,
//!   counting every AWS request by `Service.Operation`;
//! - serves fakes of the third parties functions call (Zendesk, GOV.UK
//!   Notify), with their credentials in Secrets Manager, and the identity
//!   provider's JWKS;
//! - is AWS IoT Core: MQTT over WebSocket with the template's custom
//!   authorizer, and the data plane's Publish delivered to subscribers.
//!
//! Tests use [`LocalStack::start`]; developers use the `local-stack` CLI.

mod child;
pub mod emulator;
pub mod error;
pub mod fakes;
pub mod fault_proxy;
pub mod http_api;
pub mod iam;
pub mod iam_client;
pub mod invoke_api;
pub mod iot;
pub mod lambda;
pub mod options;
pub mod provision;
pub mod queues;
mod server;
pub mod sources;
mod stack;
pub mod template;

use std::collections::BTreeMap;

pub use emulator::{Emulator, EmulatorError};
pub use error::StackError;
pub use fakes::{
    FakeServer, LOCAL_NOTIFY_API_KEY, LOCAL_NOTIFY_SECRET, LOCAL_NOTIFY_SERVICE_ID, LOCAL_NOTIFY_TEMPLATE_ID,
    LOCAL_ZENDESK_EMAIL, LOCAL_ZENDESK_TOKEN,
};
pub use fault_proxy::{Fault, FaultInjector, RequestCounter};
pub use http_api::jwt::{mint_token, JwtError, JwtVerifier, TokenRequest, DEFAULT_JWT_SECRET};
pub use iam_client::{SigV4Client, SigV4ClientError};
pub use lambda::{InvokeError, InvokeOutcome, Invoker, Readiness};
pub use options::{
    find_workspace_root, EmulatorMode, StackOptions, CONTRACT_CONNECT_PORT, CONTRACT_EMULATOR_PORT, CONTRACT_HTTP_PORT,
    CONTRACT_INVOKE_PORT, CONTRACT_IOT_PORT, CONTRACT_NOTIFY_PORT, CONTRACT_ZENDESK_PORT, DEFAULT_REGION,
    DEFAULT_STACK_NAME,
};
pub use provision::{LookupError, PhysicalResource, Provisioned};
pub use stack::{sdk_config, LocalStack, RouteInfo, IAM_LEDGER_DIR_ENV};
pub use template::{StackContext, Template};

use template::{HttpApiSpec, Resolver, TemplateError};

/// What the HTTP API's JWT authorizer expects of a token.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct JwtSettings {
    pub issuer: Option<String>,
    /// The first accepted audience.
    pub audience: Option<String>,
}

/// The issuer and audience of the first JWT authorizer (the default
/// authorizer of the first API that has one).
pub fn jwt_settings(apis: &BTreeMap<String, HttpApiSpec>) -> JwtSettings {
    let authorizer = apis
        .values()
        .find_map(|api| api.default_authorizer.as_ref().and_then(|name| api.authorizers.get(name)))
        .or_else(|| apis.values().find_map(|api| api.authorizers.values().next()));
    authorizer.map_or_else(JwtSettings::default, |a| JwtSettings {
        issuer: a.issuer.clone(),
        audience: a.audiences.first().cloned(),
    })
}

/// JWT settings straight from a template (parameter defaults, overridable),
/// without starting anything: what `local-stack token` uses.
pub fn template_jwt_settings(
    template: &Template,
    context: StackContext,
    overrides: &BTreeMap<String, String>,
) -> Result<JwtSettings, TemplateError> {
    let resolver = Resolver::new(template, context, overrides)
        .map_err(|source| TemplateError::Resource { resource: "Parameters/Conditions".to_owned(), source })?;
    Ok(jwt_settings(&template.http_apis(&resolver)?))
}
