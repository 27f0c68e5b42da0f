//! The template's `AWS::IoT::Authorizer`s, and invoking one as IoT Core does:
//! through the local Lambda service, with IoT's event, within IoT's 5 seconds.
//! As in AWS, the function must have granted `iot.amazonaws.com` invoke
//! permission for the authorizer (`AWS::Lambda::Permission`), or the stack
//! refuses to start.

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine as _;
use serde_json::{json, Value};

use super::policy::{read_response, Authorization, ResponseError};
use crate::lambda::{InvokeOutcome, Invoker};
use crate::provision::Provisioned;
use crate::template::{scalar_string, types, Resolver, Template, TemplateError};

/// IoT Core waits this long for an authorizer.
const AUTHORIZER_TIMEOUT: Duration = Duration::from_secs(5);
/// The query parameter (of the WebSocket URL or the MQTT user name) naming the authorizer.
pub const AUTHORIZER_NAME_PARAM: &str = "x-amz-customauthorizer-name";

#[derive(Debug, thiserror::Error)]
pub enum IotSetupError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("IoT authorizer {authorizer}: AuthorizerFunctionArn {arn} is not a function of this stack")]
    Function { authorizer: String, arn: String },
    #[error("IoT authorizer {authorizer}: token signing is not emulated locally; set SigningDisabled: true")]
    Signing { authorizer: String },
    #[error(
        "IoT authorizer {authorizer}: no AWS::Lambda::Permission lets iot.amazonaws.com invoke {function} for it \
         (IoT Core could not call it)"
    )]
    Permission { authorizer: String, function: String },
}

/// One custom authorizer of the template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomAuthorizer {
    pub name: String,
    pub arn: String,
    /// The function's logical id.
    pub function: String,
    /// `Status: ACTIVE`; an inactive authorizer refuses every connection.
    pub active: bool,
}

fn resolved(resolver: &Resolver, id: &str, value: &Value) -> Result<Value, IotSetupError> {
    Ok(resolver
        .resolve(value)
        .map_err(|source| TemplateError::Resource { resource: id.to_owned(), source })?
        .unwrap_or_default())
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(scalar_string)
}

/// Every enabled `AWS::IoT::Authorizer`, checked as IoT and Lambda would check it.
pub fn authorizers(
    template: &Template,
    resolver: &Resolver,
    provisioned: &Provisioned,
) -> Result<Vec<CustomAuthorizer>, IotSetupError> {
    let mut out = Vec::new();
    for resource in template.resources_of(types::IOT_AUTHORIZER).filter(|r| resolver.is_enabled(r)) {
        let id = &resource.logical_id;
        let props = resolved(resolver, id, &resource.properties)?;
        let Some(physical) = provisioned.of_kind(types::IOT_AUTHORIZER).find(|p| &p.logical_id == id) else {
            continue;
        };
        let arn = text(&props, "AuthorizerFunctionArn").unwrap_or_default();
        let function = provisioned
            .of_kind(types::SERVERLESS_FUNCTION)
            .find(|f| f.arn.as_deref() == Some(arn.as_str()))
            .ok_or_else(|| IotSetupError::Function { authorizer: id.clone(), arn: arn.clone() })?;
        if !props.get("SigningDisabled").is_some_and(|v| v == &json!(true) || v == &json!("true")) {
            return Err(IotSetupError::Signing { authorizer: id.clone() });
        }
        let authorizer = CustomAuthorizer {
            name: physical.name.clone(),
            arn: physical.arn.clone().unwrap_or_default(),
            function: function.logical_id.clone(),
            active: text(&props, "Status").is_none_or(|s| s == "ACTIVE"),
        };
        let function_names = [function.name.as_str(), function.logical_id.as_str(), arn.as_str()];
        if !permitted(template, resolver, &authorizer, &function_names, &resolver.context().account_id)? {
            return Err(IotSetupError::Permission { authorizer: id.clone(), function: function.logical_id.clone() });
        }
        out.push(authorizer);
    }
    Ok(out)
}

/// Whether a Lambda permission lets IoT invoke the function for this authorizer.
fn permitted(
    template: &Template,
    resolver: &Resolver,
    authorizer: &CustomAuthorizer,
    function_names: &[&str],
    account: &str,
) -> Result<bool, IotSetupError> {
    for resource in template.resources_of(types::LAMBDA_PERMISSION).filter(|r| resolver.is_enabled(r)) {
        let props = resolved(resolver, &resource.logical_id, &resource.properties)?;
        let function = text(&props, "FunctionName").unwrap_or_default();
        let action = text(&props, "Action").unwrap_or_default();
        let ok = function_names.contains(&function.as_str())
            && matches!(action.as_str(), "lambda:InvokeFunction" | "lambda:*")
            && text(&props, "Principal").as_deref() == Some("iot.amazonaws.com")
            && text(&props, "SourceArn").is_none_or(|a| a == authorizer.arn)
            && text(&props, "SourceAccount").is_none_or(|a| a == account);
        if ok {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The authorizer a connection names: `x-amz-customauthorizer-name` in the
/// WebSocket URL's query, else in the MQTT user name's (`user?x-amz-…=NAME`).
pub fn requested_name(query: Option<&str>, username: Option<&str>) -> Option<String> {
    let from = |q: &str| {
        form_urlencoded::parse(q.trim_start_matches('?').as_bytes())
            .find(|(k, _)| k == AUTHORIZER_NAME_PARAM)
            .map(|(_, v)| v.into_owned())
    };
    query.and_then(from).or_else(|| username.and_then(|u| u.split_once('?')).and_then(|(_, q)| from(q)))
}

/// What IoT Core knows of a connection when it calls the authorizer.
#[derive(Debug, Clone, Default)]
pub struct ConnectAttempt {
    pub connection_id: String,
    pub host: String,
    pub headers: BTreeMap<String, String>,
    pub query: Option<String>,
    pub username: Option<String>,
    pub password: Option<Vec<u8>>,
    pub client_id: String,
}

/// IoT Core's event for an MQTT-over-WebSocket connection (signing disabled).
pub fn event(attempt: &ConnectAttempt) -> Value {
    let mut mqtt = json!({"clientId": attempt.client_id});
    if let Some(u) = &attempt.username {
        mqtt["username"] = json!(u);
    }
    if let Some(p) = &attempt.password {
        mqtt["password"] = json!(base64::engine::general_purpose::STANDARD.encode(p));
    }
    let mut http = json!({"headers": attempt.headers});
    if let Some(q) = &attempt.query {
        http["queryString"] = json!(format!("?{}", q.trim_start_matches('?')));
    }
    json!({
        "signatureVerified": false,
        "protocols": ["tls", "http", "mqtt"],
        "protocolData": {"tls": {"serverName": attempt.host}, "http": http, "mqtt": mqtt},
        "connectionMetadata": {"id": attempt.connection_id},
    })
}

/// Why a connection got no policy, for the broker's log (never the credentials).
#[derive(Debug, thiserror::Error)]
pub enum AuthorizeError {
    #[error("the authorizer failed: {0}")]
    Function(String),
    #[error("the authorizer did not answer within 5 s")]
    Timeout,
    #[error("the authorizer's answer is invalid: {0}")]
    Response(#[from] ResponseError),
}

/// Invokes the authorizer's function with IoT's event.
pub async fn authorize(
    invoker: &Invoker,
    authorizer: &CustomAuthorizer,
    attempt: &ConnectAttempt,
) -> Result<Authorization, AuthorizeError> {
    let call = invoker.invoke(&authorizer.function, event(attempt));
    match tokio::time::timeout(AUTHORIZER_TIMEOUT, call).await {
        Err(_) => Err(AuthorizeError::Timeout),
        Ok(Err(e)) => Err(AuthorizeError::Function(e.to_string())),
        Ok(Ok(InvokeOutcome::FunctionError(e))) => Err(AuthorizeError::Function(e.to_string())),
        Ok(Ok(InvokeOutcome::Ok(answer))) => Ok(read_response(&answer)?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_authorizer_is_named_in_the_url_or_the_user_name() {
        let q = Some("x-amz-customauthorizer-name=local-notifications");
        assert_eq!(requested_name(q, None).as_deref(), Some("local-notifications"));
        assert_eq!(
            requested_name(None, Some("u1?x-amz-customauthorizer-name=local-notifications")).as_deref(),
            Some("local-notifications")
        );
        assert_eq!(requested_name(Some("other=1"), Some("u1")), None);
    }

    #[test]
    fn the_event_carries_the_password_base64_encoded() {
        let attempt = ConnectAttempt {
            connection_id: "c1".into(),
            host: "127.0.0.1:4580".into(),
            username: Some("u1".into()),
            password: Some(b"eyJ.token".to_vec()),
            client_id: "u1/tab".into(),
            query: Some("x-amz-customauthorizer-name=n".into()),
            ..ConnectAttempt::default()
        };
        let e = event(&attempt);
        assert_eq!(e["protocolData"]["mqtt"]["password"], "ZXlKLnRva2Vu");
        assert_eq!(e["protocolData"]["mqtt"]["clientId"], "u1/tab");
        assert_eq!(e["protocolData"]["http"]["queryString"], "?x-amz-customauthorizer-name=n");
        assert_eq!(e["signatureVerified"], false);
    }
}
