//! IAM, enforced locally: every AWS call a function makes is checked against
//! that function's effective permissions from the template (its execution
//! role as SAM expands it), the resource's own policy and, for encrypted
//! queues and topics, the KMS key's policy — and refused in the service's own
//! error shape when AWS would refuse it. See docs/local-stack.md.

pub mod denial;
pub mod evaluate;
pub mod managed;
pub mod policy;
pub mod principals;
pub mod request;
pub mod resources;
pub mod sigv4;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use axum::http::request::Parts;
use serde::Serialize;
use serde_json::{json, Value};

pub use denial::{Kind, Refusal};
pub use evaluate::{Caller, Check, Decision};
pub use principals::{Principal, PrincipalError};
pub use resources::{Catalog, CatalogError, Encryption};

use request::{Credential, Operation, Protocol, Scope};

/// The emulator's own credentials, used by the local stack itself (the
/// event source mappings, provisioning) and by tests and `ops`: the account
/// root, never checked.
pub const ROOT_ACCESS_KEY: &str = "test";

/// What the authorizer decided for one request.
#[derive(Debug)]
pub enum Verdict {
    /// Root credentials: not checked.
    Root,
    /// A known principal, allowed.
    Allowed {
        principal: String,
    },
    Refused(Refusal),
}

/// How often one principal made one call, and how often it was refused.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Calls {
    pub allowed: u64,
    pub refused: u64,
}

pub struct Authorizer {
    by_key: HashMap<String, Arc<Principal>>,
    catalog: Catalog,
    account: String,
    secrets: SecretArns,
    ledger: Mutex<BTreeMap<(String, String), Calls>>,
}

impl std::fmt::Debug for Authorizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authorizer").field("principals", &self.by_key.len()).finish_non_exhaustive()
    }
}

impl Authorizer {
    pub fn new(
        principals: Vec<Principal>,
        catalog: Catalog,
        region: &str,
        account: &str,
        emulator: &str,
    ) -> Result<Self, reqwest::Error> {
        Ok(Self {
            by_key: principals.into_iter().map(|p| (p.access_key_id.clone(), Arc::new(p))).collect(),
            catalog,
            account: account.to_owned(),
            secrets: SecretArns::new(emulator, region, account)?,
            ledger: Mutex::new(BTreeMap::new()),
        })
    }

    /// The principal signing with an access key.
    pub fn principal(&self, access_key_id: &str) -> Option<&Principal> {
        self.by_key.get(access_key_id).map(AsRef::as_ref)
    }

    /// A principal by name (function name or named principal).
    pub fn principal_named(&self, name: &str) -> Option<&Principal> {
        self.by_key.values().find(|p| p.name == name).map(AsRef::as_ref)
    }

    /// Every principal.
    pub fn principals(&self) -> impl Iterator<Item = &Principal> {
        self.by_key.values().map(AsRef::as_ref)
    }

    /// The decision for one check by one principal, resource and key policies included.
    pub fn decide(&self, principal: &Principal, check: &Check) -> Decision {
        let caller = caller(principal, &self.account);
        if check.action.starts_with("kms:") {
            return self.catalog.kms_decision(&principal.statements, &caller, check);
        }
        evaluate::evaluate(&principal.statements, self.catalog.resource_policy(&check.resource), &caller, check)
    }

    /// Authorizes one request as AWS would.
    pub async fn authorize(&self, parts: &Parts, body: &[u8]) -> Verdict {
        let Some(credential) = request::credential(&parts.headers, parts.uri.query()) else {
            // Unsigned: the emulator's admin API (`/moto-api`) and health checks.
            return Verdict::Root;
        };
        if credential.access_key_id == ROOT_ACCESS_KEY {
            return Verdict::Root;
        }
        let scope = Scope { region: &credential.region, account: &self.account };
        let parsed = request::operation(
            &parts.method,
            parts.uri.path(),
            parts.uri.query(),
            &parts.headers,
            body,
            &credential,
            &scope,
        );
        let Some(principal) = self.by_key.get(&credential.access_key_id).cloned() else {
            let (service, protocol) = parsed
                .as_ref()
                .map_or((credential.service.as_str(), Protocol::AwsJson), |o| (o.service.as_str(), o.protocol));
            let message = "The security token included in the request is invalid.".to_owned();
            return Verdict::Refused(denial::refusal(service, protocol, Kind::UnknownCredentials, message));
        };
        let operation = match parsed {
            Ok(operation) => operation,
            Err(e) => {
                self.record(&principal.name, &format!("{}.?", credential.service), false);
                let message = format!("{} (local stack): {e}", principal.name);
                return Verdict::Refused(denial::refusal(
                    &credential.service,
                    Protocol::AwsJson,
                    Kind::AccessDenied,
                    message,
                ));
            }
        };
        self.authorize_operation(&principal, operation, &credential).await
    }

    async fn authorize_operation(
        &self,
        principal: &Principal,
        mut operation: Operation,
        credential: &Credential,
    ) -> Verdict {
        let label = format!("{}.{}", operation.service, operation.name);
        if let Some(name) = &operation.secret_by_name {
            let arn = self.secrets.arn(name).await;
            for check in &mut operation.checks {
                check.resource = arn.clone();
            }
        }
        for check in &operation.checks {
            let decision = self.decide(principal, check);
            if !decision.allowed() {
                self.record(&principal.name, &label, false);
                return Verdict::Refused(self.denied(principal, &operation, check, &decision, Kind::AccessDenied));
            }
        }
        if let Some(target) = &operation.encrypted_target {
            if let Some(Encryption::CustomerKey(key)) = self.catalog.encryption(target) {
                let via = format!("{}.{}.amazonaws.com", operation.service, credential.region);
                let actions: &[&str] = match operation.name.as_str() {
                    "ReceiveMessage" => &["kms:Decrypt"],
                    _ => &["kms:GenerateDataKey", "kms:Decrypt"],
                };
                for action in actions {
                    let check = Check::new(*action, key).with("kms:ViaService", [via.clone()]);
                    let decision = self.decide(principal, &check);
                    if !decision.allowed() {
                        self.record(&principal.name, &label, false);
                        return Verdict::Refused(self.denied(
                            principal,
                            &operation,
                            &check,
                            &decision,
                            Kind::KmsAccessDenied,
                        ));
                    }
                }
            }
        }
        self.record(&principal.name, &label, true);
        Verdict::Allowed { principal: principal.name.clone() }
    }

    fn denied(
        &self,
        principal: &Principal,
        operation: &Operation,
        check: &Check,
        decision: &Decision,
        kind: Kind,
    ) -> Refusal {
        let message = format!(
            "User: {} is not authorized to perform: {} on resource: {} {} (function {}, {} {})",
            principal.session_arn,
            check.action,
            check.resource,
            decision.reason(&check.action),
            principal.name,
            operation.service,
            operation.name,
        );
        tracing::warn!(principal = %principal.name, action = %check.action, resource = %check.resource, "IAM refused a call");
        denial::refusal(&operation.service, operation.protocol, kind, message)
    }

    fn record(&self, principal: &str, operation: &str, allowed: bool) {
        if let Ok(mut ledger) = self.ledger.lock() {
            let calls = ledger.entry((principal.to_owned(), operation.to_owned())).or_default();
            if allowed {
                calls.allowed += 1;
            } else {
                calls.refused += 1;
            }
        }
    }

    /// Every (principal, `service.Operation`) pair seen, with counts.
    pub fn ledger(&self) -> BTreeMap<(String, String), Calls> {
        self.ledger.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// The ledger by logical id (functions and named principals), for
    /// reports that add up many stacks: `{logical_id: {operation: {allowed, refused}}}`.
    pub fn ledger_by_logical_id(&self) -> Value {
        let mut out = serde_json::Map::new();
        for ((name, operation), calls) in self.ledger() {
            let id = self.principal_named(&name).map_or(name.clone(), |p| p.logical_id.clone());
            let entry = out.entry(id).or_insert_with(|| json!({}));
            entry[operation] = json!(calls);
        }
        Value::Object(out)
    }

    /// The ledger as JSON: `{principal: {operation: {allowed, refused}}}`.
    pub fn ledger_json(&self) -> Value {
        let mut out = serde_json::Map::new();
        for ((principal, operation), calls) in self.ledger() {
            let entry = out.entry(principal).or_insert_with(|| json!({}));
            entry[operation] = json!(calls);
        }
        Value::Object(out)
    }
}

fn caller(principal: &Principal, account: &str) -> Caller {
    Caller {
        role_arn: principal.role_arn.clone(),
        session_arn: principal.session_arn.clone(),
        account: account.to_owned(),
    }
}

/// Secret ARNs by name: IAM matches the full ARN (with the 6-character
/// suffix Secrets Manager adds), so a call naming a secret is authorized
/// against its ARN, looked up in the emulator once.
struct SecretArns {
    http: reqwest::Client,
    endpoint: String,
    region: String,
    account: String,
    cache: Mutex<HashMap<String, String>>,
}

impl SecretArns {
    fn new(endpoint: &str, region: &str, account: &str) -> Result<Self, reqwest::Error> {
        Ok(Self {
            http: kit::http::client()?,
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            region: region.to_owned(),
            account: account.to_owned(),
            cache: Mutex::new(HashMap::new()),
        })
    }

    async fn arn(&self, name: &str) -> String {
        if let Some(found) = self.cache.lock().ok().and_then(|c| c.get(name).cloned()) {
            return found;
        }
        let date = chrono::Utc::now().format("%Y%m%d");
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential={ROOT_ACCESS_KEY}/{date}/{}/secretsmanager/aws4_request, SignedHeaders=host, Signature=0",
            self.region
        );
        let looked_up = self
            .http
            .post(format!("{}/", self.endpoint))
            .header("authorization", auth)
            .header("x-amz-target", "secretsmanager.DescribeSecret")
            .header("content-type", "application/x-amz-json-1.1")
            .body(json!({ "SecretId": name }).to_string())
            .send()
            .await
            .ok();
        let arn = match looked_up {
            Some(response) => response.json::<Value>().await.ok().and_then(|v| v["ARN"].as_str().map(str::to_owned)),
            None => None,
        };
        match arn {
            Some(arn) => {
                if let Ok(mut cache) = self.cache.lock() {
                    cache.insert(name.to_owned(), arn.clone());
                }
                arn
            }
            // No such secret: authorize against the name-only ARN (AWS
            // answers AccessDenied before ResourceNotFound when not allowed).
            None => format!("arn:aws:secretsmanager:{}:{}:secret:{name}", self.region, self.account),
        }
    }
}

/// Why IAM could not be set up for a stack.
#[derive(Debug, thiserror::Error)]
pub enum IamSetupError {
    #[error(transparent)]
    Principal(#[from] PrincipalError),
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    #[error("cannot build an HTTP client: {0}")]
    HttpClient(#[source] reqwest::Error),
    /// What Lambda's CreateEventSourceMapping says when the role cannot read the queue.
    #[error("function {function}: the provided execution role does not have permissions to call {action} on {queue} ({reason})")]
    EventSource { function: String, action: String, queue: String, reason: String },
}

/// Builds the authorizer of a provisioned stack: one principal per function
/// (by logical id and function name) and each named principal.
pub fn authorizer_for(
    template: &crate::template::Template,
    resolver: &crate::template::Resolver,
    provisioned: &crate::provision::Provisioned,
    functions: &[(String, String)],
    emulator: &str,
) -> Result<Authorizer, IamSetupError> {
    let mut principals = Vec::new();
    for (logical_id, function_name) in functions {
        if let Some(resource) = template.resources.get(logical_id) {
            principals.push(principals::function_principal(template, resolver, resource, function_name)?);
        }
    }
    principals.extend(principals::named_principals(template, resolver)?);
    let catalog = Catalog::read(template, resolver, provisioned)?;
    let ctx = resolver.context();
    Authorizer::new(principals, catalog, &ctx.region, &ctx.account_id, emulator).map_err(IamSetupError::HttpClient)
}

/// The parameters named principals fill in (`Metadata.LocalStack.Parameter`):
/// each set to its principal's role ARN unless the caller set it.
pub fn principal_parameters(
    template: &crate::template::Template,
    account: &str,
    caller: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for resource in template.resources_of("AWS::IAM::ManagedPolicy") {
        let (Some(name), Some(parameter)) = (
            principals::local_principal_name(resource),
            resource.metadata.pointer("/LocalStack/Parameter").and_then(Value::as_str),
        ) else {
            continue;
        };
        if template.parameters.contains_key(parameter) && !caller.contains_key(parameter) {
            out.entry(parameter.to_owned()).or_default().push(format!("arn:aws:iam::{account}:role/{name}"));
        }
    }
    out.into_iter().map(|(k, v)| (k, v.join(","))).collect()
}

impl Authorizer {
    /// What Lambda checks when an SQS event source mapping is created: the
    /// function's role may receive, delete and read attributes of its queue
    /// (and decrypt it when a customer managed key encrypts it).
    pub fn check_event_source(&self, logical_id: &str, queue_arn: &str) -> Result<(), IamSetupError> {
        let Some(principal) = self.by_key.values().find(|p| p.is_function && p.logical_id == logical_id) else {
            return Ok(());
        };
        let mut checks: Vec<Check> = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
            .into_iter()
            .map(|action| Check::new(action, queue_arn))
            .collect();
        if let Some(Encryption::CustomerKey(key)) = self.catalog.encryption(queue_arn) {
            checks.push(Check::new("kms:Decrypt", key));
        }
        for check in checks {
            let decision = self.decide(principal, &check);
            if !decision.allowed() {
                return Err(IamSetupError::EventSource {
                    function: principal.name.clone(),
                    action: check.action.clone(),
                    queue: queue_arn.to_owned(),
                    reason: decision.reason(&check.action),
                });
            }
        }
        Ok(())
    }
}
