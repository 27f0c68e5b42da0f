//! Who may call AWS locally, and with which policies: each function's
//! execution role expanded as SAM expands it, and the named principals the
//! template declares for callers outside AWS (its managed policies with
//! `Metadata.LocalStack.Principal`).
//!
//! SAM gives a function without `Role` a role with: `AWSLambdaBasicExecutionRole`;
//! `AWSLambdaSQSQueueExecutionRole` when it has an SQS event; a statement
//! for its `DeadLetterQueue`; and each `Policies` entry (inline documents,
//! managed policy ARNs or `!Ref`s to the template's managed policies).
//! `infra/local/tests/sam_expansion.rs` checks this expansion against
//! `aws-sam-translator`'s (`infra/local/sam_policies.py`) for the shipped template.

use serde_json::{json, Value};

use super::managed;
use super::policy::{parse_document, PolicyError, Statement};
use crate::template::{Resolver, Resource, Template};

/// Why a principal's policies could not be worked out.
#[derive(Debug, thiserror::Error)]
pub enum PrincipalError {
    #[error("{resource}: {reason}")]
    Unsupported { resource: String, reason: String },
    #[error("{resource}: cannot resolve {what}: {source}")]
    Resolve {
        resource: String,
        what: String,
        #[source]
        source: crate::template::ResolveError,
    },
    #[error(transparent)]
    Policy(#[from] PolicyError),
}

/// A principal the local stack knows: its role, session, keys and policies.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The function name (or the named principal's name).
    pub name: String,
    pub logical_id: String,
    pub role_arn: String,
    pub session_arn: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub statements: Vec<Statement>,
    /// A function (true) or a named principal outside AWS.
    pub is_function: bool,
}

/// SAM's role name for a function: `{LogicalId}Role` (CloudFormation adds
/// the stack name and a random suffix to the physical name).
pub fn function_role_arn(account: &str, stack: &str, logical_id: &str) -> String {
    format!("arn:aws:iam::{account}:role/{stack}-{logical_id}Role")
}

/// The access key a principal signs with locally: stable for a name, so log
/// lines from two runs agree.
pub fn access_key_id(name: &str) -> String {
    // FNV-1a, 64 bits, printed as 16 hex digits: AKIA + 16 = AWS's 20 characters.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in name.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("AKIA{hash:016X}")
}

fn new_secret() -> String {
    use rand::Rng as _;
    let bytes: [u8; 20] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The effective identity policy of one function, expanded as SAM does.
pub fn function_principal(
    template: &Template,
    resolver: &Resolver,
    resource: &Resource,
    function_name: &str,
) -> Result<Principal, PrincipalError> {
    let id = &resource.logical_id;
    let ctx = resolver.context();
    let props = template.function_properties(resource);
    let unsupported = |reason: String| PrincipalError::Unsupported { resource: id.clone(), reason };
    let mut statements = Vec::new();
    let role_arn;
    if let Some(role) = props.get("Role") {
        let role_id = role
            .pointer("/Fn::GetAtt/0")
            .and_then(Value::as_str)
            .filter(|r| template.resources.get(*r).is_some_and(|res| res.kind == "AWS::IAM::Role"))
            .ok_or_else(|| unsupported("Role must be !GetAtt of an AWS::IAM::Role in this template".into()))?;
        let role_resource = &template.resources[role_id];
        role_arn = format!("arn:aws:iam::{}:role/{}-{role_id}", ctx.account_id, ctx.stack_name);
        for (index, policy) in
            role_resource.properties.get("Policies").and_then(Value::as_array).into_iter().flatten().enumerate()
        {
            let document =
                resolve(resolver, role_id, "PolicyDocument", policy.get("PolicyDocument").unwrap_or(&Value::Null))?;
            let name = policy
                .get("PolicyName")
                .and_then(Value::as_str)
                .map_or_else(|| format!("{role_id}Policy{index}"), str::to_owned);
            statements.extend(parse_document(&name, &document)?);
        }
        for arn in role_resource.properties.get("ManagedPolicyArns").and_then(Value::as_array).into_iter().flatten() {
            statements.extend(managed_policy(template, resolver, role_id, arn)?);
        }
    } else {
        role_arn = function_role_arn(&ctx.account_id, &ctx.stack_name, id);
        statements.extend(aws_managed(managed::BASIC_EXECUTION)?);
        let events = props.get("Events").and_then(Value::as_object).cloned().unwrap_or_default();
        let mut sqs_attached = false;
        for (name, event) in &events {
            match event.get("Type").and_then(Value::as_str).unwrap_or_default() {
                "SQS" if !sqs_attached => {
                    statements.extend(aws_managed(managed::SQS_QUEUE_EXECUTION)?);
                    sqs_attached = true;
                }
                "SQS" | "Schedule" | "ScheduleV2" | "HttpApi" | "Api" | "CloudWatchLogs" | "SNS" | "S3"
                | "EventBridgeRule" | "CloudWatchEvent" => {}
                other => {
                    return Err(unsupported(format!(
                        "event {name} of type {other}: the role SAM makes for it is not modelled locally"
                    )))
                }
            }
        }
        for property in ["Tracing", "VpcConfig", "PermissionsBoundary"] {
            if props.get(property).is_some_and(|v| v.as_str() != Some("PassThrough")) {
                return Err(unsupported(format!("{property}: the policies SAM adds for it are not modelled locally")));
            }
        }
        if let Some(dlq) = props.get("DeadLetterQueue") {
            let dlq = resolve(resolver, id, "DeadLetterQueue", dlq)?;
            let target = dlq.get("TargetArn").cloned().unwrap_or(Value::Null);
            let action = match dlq.get("Type").and_then(Value::as_str) {
                Some("SQS") => "sqs:SendMessage",
                Some("SNS") => "sns:Publish",
                other => return Err(unsupported(format!("DeadLetterQueue type {other:?}"))),
            };
            let doc = json!({"Statement": [{"Effect": "Allow", "Action": action, "Resource": target}]});
            statements.extend(parse_document("DeadLetterQueuePolicy", &doc)?);
        }
        let policies = match props.get("Policies") {
            None => Vec::new(),
            Some(Value::Array(items)) => items.clone(),
            Some(single) => vec![single.clone()],
        };
        for (index, entry) in policies.iter().enumerate() {
            let origin = format!("{id}RolePolicy{index}");
            let is_inline = entry.get("Statement").is_some();
            let is_managed = entry.is_string()
                || entry.get("Ref").is_some()
                || entry.get("Fn::Sub").is_some()
                || entry.get("Fn::Join").is_some();
            if is_inline {
                statements.extend(parse_document(&origin, &resolve(resolver, id, &origin, entry)?)?);
            } else if is_managed {
                statements.extend(managed_policy(template, resolver, id, entry)?);
            } else {
                let name = entry.as_object().and_then(|m| m.keys().next().cloned()).unwrap_or_default();
                return Err(unsupported(format!(
                    "Policies[{index}]: SAM policy template {name} is not expanded locally; write the statements out"
                )));
            }
        }
    }
    let session_arn = session_arn(&role_arn, function_name);
    Ok(Principal {
        name: function_name.to_owned(),
        logical_id: id.clone(),
        access_key_id: access_key_id(&format!("{}/{id}", ctx.stack_name)),
        secret_access_key: new_secret(),
        role_arn,
        session_arn,
        statements,
        is_function: true,
    })
}

/// `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`, as Lambda's credentials show.
pub fn session_arn(role_arn: &str, session: &str) -> String {
    let (prefix, role) = role_arn.split_once(":role/").unwrap_or((role_arn, ""));
    let account = prefix.rsplit(':').next().unwrap_or_default();
    format!("arn:aws:sts::{account}:assumed-role/{role}/{session}")
}

/// Principals outside AWS that the template names: every
/// `AWS::IAM::ManagedPolicy` with `Metadata: {LocalStack: {Principal: NAME}}`
/// becomes a role `NAME` with that policy attached.
pub fn named_principals(template: &Template, resolver: &Resolver) -> Result<Vec<Principal>, PrincipalError> {
    let ctx = resolver.context();
    let mut out = Vec::new();
    for resource in template.resources_of("AWS::IAM::ManagedPolicy") {
        let Some(name) = local_principal_name(resource) else { continue };
        if !resolver.is_enabled(resource) {
            continue;
        }
        let document = resolve(
            resolver,
            &resource.logical_id,
            "PolicyDocument",
            resource.properties.get("PolicyDocument").unwrap_or(&Value::Null),
        )?;
        let role_arn = format!("arn:aws:iam::{}:role/{name}", ctx.account_id);
        out.push(Principal {
            name: name.to_owned(),
            logical_id: resource.logical_id.clone(),
            session_arn: session_arn(&role_arn, "local"),
            role_arn,
            access_key_id: access_key_id(&format!("{}/{name}", ctx.stack_name)),
            secret_access_key: new_secret(),
            statements: parse_document(&resource.logical_id, &document)?,
            is_function: false,
        });
    }
    Ok(out)
}

/// The local principal a managed policy stands for, if any.
pub fn local_principal_name(resource: &Resource) -> Option<&str> {
    resource.metadata.pointer("/LocalStack/Principal").and_then(Value::as_str)
}

fn aws_managed(arn: &str) -> Result<Vec<Statement>, PrincipalError> {
    let document = managed::document(arn).ok_or_else(|| PrincipalError::Unsupported {
        resource: arn.to_owned(),
        reason: "AWS managed policy not known locally (add its document to iam/managed.rs)".into(),
    })?;
    Ok(parse_document(arn.rsplit('/').next().unwrap_or(arn), &document)?)
}

/// A managed policy named in `Policies` or `ManagedPolicyArns`: an AWS
/// managed policy's ARN, or a `!Ref` to one of the template's own.
fn managed_policy(
    template: &Template,
    resolver: &Resolver,
    owner: &str,
    entry: &Value,
) -> Result<Vec<Statement>, PrincipalError> {
    if let Some(target) = entry.get("Ref").and_then(Value::as_str) {
        if let Some(policy) = template.resources.get(target).filter(|r| r.kind == "AWS::IAM::ManagedPolicy") {
            let document = resolve(
                resolver,
                target,
                "PolicyDocument",
                policy.properties.get("PolicyDocument").unwrap_or(&Value::Null),
            )?;
            return Ok(parse_document(target, &document)?);
        }
    }
    let resolved = resolve(resolver, owner, "a managed policy", entry)?;
    let arn = resolved.as_str().unwrap_or_default();
    // SAM accepts a bare name for AWS managed policies.
    let arn = if arn.starts_with("arn:") { arn.to_owned() } else { format!("arn:aws:iam::aws:policy/{arn}") };
    let known =
        managed::document(&arn).or_else(|| managed::document(&arn.replace(":policy/", ":policy/service-role/")));
    let document = known.ok_or_else(|| PrincipalError::Unsupported {
        resource: owner.to_owned(),
        reason: format!("managed policy {arn} is not known locally (add its document to iam/managed.rs)"),
    })?;
    Ok(parse_document(&arn, &document)?)
}

fn resolve(resolver: &Resolver, resource: &str, what: &str, value: &Value) -> Result<Value, PrincipalError> {
    resolver.resolve(value).map(|v| v.unwrap_or(Value::Null)).map_err(|source| PrincipalError::Resolve {
        resource: resource.to_owned(),
        what: what.to_owned(),
        source,
    })
}
