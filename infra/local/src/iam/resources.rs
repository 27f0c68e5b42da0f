//! The resource side of authorization, read from the template: resource
//! policies (queue, topic and bucket policies, a table's `ResourcePolicy`),
//! the KMS key each queue and topic is encrypted with, and key policies.

use std::collections::HashMap;

use serde_json::Value;

use super::evaluate::{evaluate, Caller, Check, Decision};
use super::policy::{parse_document, Effect, Matcher, PolicyError, PrincipalPattern, Statement};
use crate::provision::Provisioned;
use crate::template::{types, Resolver, Template};

/// How a queue or topic is encrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Encryption {
    /// An AWS managed key (`alias/aws/sns`, `alias/aws/sqs`): its key policy
    /// lets every principal of the account use it through the service.
    AwsManaged,
    /// A customer managed key: the caller needs the KMS permissions too.
    CustomerKey(String),
}

#[derive(Debug, Default)]
pub struct Catalog {
    policies: HashMap<String, Vec<Statement>>,
    encryption: HashMap<String, Encryption>,
    key_policies: HashMap<String, Vec<Statement>>,
}

impl Catalog {
    /// Reads every resource policy and encryption setting of a provisioned template.
    pub fn read(template: &Template, resolver: &Resolver, provisioned: &Provisioned) -> Result<Self, CatalogError> {
        let mut catalog = Self::default();
        let ctx = resolver.context();
        let resolve = |id: &str, value: Option<&Value>| -> Result<Value, CatalogError> {
            let Some(value) = value else { return Ok(Value::Null) };
            resolver
                .resolve(value)
                .map(|v| v.unwrap_or(Value::Null))
                .map_err(|e| CatalogError::Resolve { resource: id.to_owned(), reason: e.to_string() })
        };
        let strings = |v: &Value| -> Vec<String> {
            match v {
                Value::Array(items) => items.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
                Value::String(s) => vec![s.clone()],
                _ => Vec::new(),
            }
        };
        for resource in template.resources.values().filter(|r| resolver.is_enabled(r)) {
            let id = resource.logical_id.as_str();
            let props = &resource.properties;
            match resource.kind.as_str() {
                "AWS::SQS::QueuePolicy" => {
                    let statements =
                        parse_document(&format!("{id} (queue policy)"), &resolve(id, props.get("PolicyDocument"))?)?;
                    for url in strings(&resolve(id, props.get("Queues"))?) {
                        let arn = provisioned
                            .iter()
                            .find(|r| r.url.as_deref() == Some(url.as_str()))
                            .and_then(|r| r.arn.clone());
                        if let Some(arn) = arn {
                            catalog.policies.entry(arn).or_default().extend(statements.clone());
                        }
                    }
                }
                "AWS::SNS::TopicPolicy" => {
                    let statements =
                        parse_document(&format!("{id} (topic policy)"), &resolve(id, props.get("PolicyDocument"))?)?;
                    for arn in strings(&resolve(id, props.get("Topics"))?) {
                        catalog.policies.entry(arn).or_default().extend(statements.clone());
                    }
                }
                "AWS::S3::BucketPolicy" => {
                    let statements =
                        parse_document(&format!("{id} (bucket policy)"), &resolve(id, props.get("PolicyDocument"))?)?;
                    if let Some(bucket) = resolve(id, props.get("Bucket"))?.as_str() {
                        catalog.policies.entry(format!("arn:aws:s3:::{bucket}")).or_default().extend(statements);
                    }
                }
                types::DYNAMODB_TABLE => {
                    if let Some(document) = props.pointer("/ResourcePolicy/PolicyDocument") {
                        let statements =
                            parse_document(&format!("{id} ResourcePolicy"), &resolve(id, Some(document))?)?;
                        if let Some(arn) = provisioned.get(id).and_then(|r| r.arn.clone()) {
                            catalog.policies.entry(arn).or_default().extend(statements);
                        }
                    }
                }
                types::SQS_QUEUE | types::SNS_TOPIC => {
                    let key = resolve(id, props.get("KmsMasterKeyId"))?;
                    if let (Some(key), Some(arn)) = (key.as_str(), provisioned.get(id).and_then(|r| r.arn.clone())) {
                        let encryption = if key.starts_with("alias/aws/") {
                            Encryption::AwsManaged
                        } else if key.starts_with("arn:") {
                            Encryption::CustomerKey(key.to_owned())
                        } else {
                            Encryption::CustomerKey(format!("arn:aws:kms:{}:{}:key/{key}", ctx.region, ctx.account_id))
                        };
                        catalog.encryption.insert(arn, encryption);
                    }
                }
                types::KMS_KEY => {
                    let statements = parse_document(&format!("{id} KeyPolicy"), &resolve(id, props.get("KeyPolicy"))?)?;
                    if let Some(arn) = provisioned.get(id).and_then(|r| r.arn.clone()) {
                        catalog.key_policies.insert(arn, statements);
                    }
                }
                _ => {}
            }
        }
        Ok(catalog)
    }

    /// The policy of the resource an ARN names: a table's for its indexes,
    /// a bucket's for its objects.
    pub fn resource_policy(&self, arn: &str) -> &[Statement] {
        if let Some(found) = self.policies.get(arn) {
            return found;
        }
        let owner = if arn.starts_with("arn:aws:s3:::") {
            arn.split_once('/').map(|(bucket, _)| bucket)
        } else {
            arn.split_once("/index/").map(|(table, _)| table)
        };
        owner.and_then(|o| self.policies.get(o)).map_or(&[], Vec::as_slice)
    }

    pub fn encryption(&self, arn: &str) -> Option<&Encryption> {
        self.encryption.get(arn)
    }

    /// A KMS call on a key, as KMS decides: the key policy must allow it, or
    /// delegate to IAM (an Allow for the account root) and the caller's
    /// identity policy allow it. A key not in the template (another
    /// account's, given as a parameter) is assumed to delegate to IAM.
    pub fn kms_decision(&self, identity: &[Statement], caller: &Caller, check: &Check) -> Decision {
        let Some(key_policy) = self.key_policies.get(&check.resource) else {
            return evaluate(identity, &[], caller, check);
        };
        let root = format!("arn:aws:iam::{}:root", caller.account);
        let delegates = key_policy.iter().any(|s| {
            s.effect == Effect::Allow
                && matches!(&s.principals, Some(Matcher::Is(list)) if list.iter().any(|p| matches!(p, PrincipalPattern::Aws(a) if a == &root || a == &caller.account)))
                && super::evaluate::applies(s, check)
        });
        evaluate(if delegates { identity } else { &[] }, key_policy, caller, check)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("{resource}: cannot resolve its policy: {reason}")]
    Resolve { resource: String, reason: String },
    #[error(transparent)]
    Policy(#[from] PolicyError),
}
