//! What an AWS request asks to do, in IAM's terms: from its protocol (JSON
//! target, query `Action`, or REST path) and parameters, the actions and
//! resource ARNs IAM authorizes it as, with the condition keys the service
//! supplies (`ses:FromAddress`, `s3:prefix`...).

use axum::http::{HeaderMap, Method};
use serde_json::Value;

use super::evaluate::Check;

/// The SigV4 credential a request was signed with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub access_key_id: String,
    pub region: String,
    /// The signing name (`dynamodb`, `sqs`, `sns`, `ses`, `s3`, `iotdata`...).
    pub service: String,
}

/// The credential scope of the `Authorization` header (or a presigned URL).
pub fn credential(headers: &HeaderMap, query: Option<&str>) -> Option<Credential> {
    let from_header = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|auth| auth.split("Credential=").nth(1))
        .map(|rest| rest.split([',', ' ']).next().unwrap_or_default().to_owned());
    let scope = from_header.or_else(|| {
        query.and_then(|q| {
            form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "X-Amz-Credential").map(|(_, v)| v.into_owned())
        })
    })?;
    let mut parts = scope.split('/');
    let access_key_id = parts.next()?.to_owned();
    let _date = parts.next()?;
    let region = parts.next()?.to_owned();
    let service = parts.next().filter(|s| !s.is_empty())?.to_owned();
    Some(Credential { access_key_id, region, service })
}

/// The wire protocol, which decides the shape of an error answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// `X-Amz-Target` with a JSON body (DynamoDB, SQS, Secrets Manager, KMS).
    AwsJson,
    /// `Action=` form parameters, XML answers (SNS, SES v1).
    Query,
    /// REST with JSON answers (SES v2, IoT data, Connect).
    RestJson,
    /// REST with XML answers (S3).
    RestXml,
}

/// One request, understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// The signing name of the service.
    pub service: String,
    /// The API operation (`GetItem`, `Publish`, `SendEmail`, `GetObject`...).
    pub name: String,
    pub protocol: Protocol,
    pub checks: Vec<Check>,
    /// A Secrets Manager secret named by name: its ARN (with AWS's random
    /// suffix) is what IAM matches, so the authorizer looks it up.
    pub secret_by_name: Option<String>,
    /// The SQS queue or SNS topic whose KMS key the call must also be allowed to use.
    pub encrypted_target: Option<String>,
}

/// Why a request could not be understood well enough to authorize it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("request body is not valid JSON")]
    BadJson,
    #[error("{service} {operation}: parameter {parameter} is missing")]
    Missing { service: String, operation: String, parameter: &'static str },
    #[error("{0}: the local stack does not know how IAM authorizes this request (add it to iam/request.rs)")]
    Unmodelled(String),
}

/// The request's parameters: a JSON body or form fields.
enum Params {
    Json(Value),
    Form(Vec<(String, String)>),
}

impl Params {
    fn str(&self, name: &str) -> Option<String> {
        match self {
            Params::Json(v) => v.get(name).and_then(Value::as_str).map(str::to_owned),
            Params::Form(fields) => fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()),
        }
    }

    /// Form list members (`Prefix.member.N`) or a JSON array of strings.
    fn list(&self, form_prefix: &str, json_pointer: &str) -> Vec<String> {
        match self {
            Params::Json(v) => v
                .pointer(json_pointer)
                .and_then(Value::as_array)
                .map(|items| items.iter().filter_map(Value::as_str).map(str::to_owned).collect())
                .unwrap_or_default(),
            Params::Form(fields) => fields
                .iter()
                .filter(|(k, _)| k.strip_prefix(form_prefix).is_some_and(|n| n.chars().all(|c| c.is_ascii_digit())))
                .map(|(_, v)| v.clone())
                .collect(),
        }
    }
}

/// Where the request is made: the region and account ARNs are built for.
#[derive(Debug, Clone)]
pub struct Scope<'a> {
    pub region: &'a str,
    pub account: &'a str,
}

/// The request as IAM authorizes it.
pub fn operation(
    method: &Method,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
    credential: &Credential,
    scope: &Scope<'_>,
) -> Result<Operation, RequestError> {
    if let Some(target) = headers.get("x-amz-target").and_then(|v| v.to_str().ok()) {
        let (prefix, name) = target.rsplit_once('.').unwrap_or(("", target));
        let params = if body.is_empty() {
            Params::Json(Value::Object(serde_json::Map::new()))
        } else {
            Params::Json(serde_json::from_slice(body).map_err(|_| RequestError::BadJson)?)
        };
        let service = match prefix {
            "DynamoDB_20120810" => "dynamodb",
            "AmazonSQS" => "sqs",
            "secretsmanager" => "secretsmanager",
            "TrentService" => "kms",
            _ => credential.service.as_str(),
        };
        return build(service, name, Protocol::AwsJson, &params, scope);
    }
    let form = is_form(headers).then(|| form_urlencoded::parse(body).into_owned().collect::<Vec<_>>());
    let query_fields: Vec<(String, String)> =
        query.map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect()).unwrap_or_default();
    let action = form
        .as_ref()
        .and_then(|f| f.iter().find(|(k, _)| k == "Action").map(|(_, v)| v.clone()))
        .or_else(|| query_fields.iter().find(|(k, _)| k == "Action").map(|(_, v)| v.clone()));
    if let Some(action) = action {
        let mut fields = form.unwrap_or_default();
        fields.extend(query_fields);
        let service = match credential.service.as_str() {
            "email" => "ses",
            other => other,
        };
        return build(service, &action, Protocol::Query, &Params::Form(fields), scope);
    }
    rest(method, path, &query_fields, body, credential, scope)
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"))
}

fn missing(service: &str, operation: &str, parameter: &'static str) -> RequestError {
    RequestError::Missing { service: service.to_owned(), operation: operation.to_owned(), parameter }
}

fn op(service: &str, name: &str, protocol: Protocol, checks: Vec<Check>) -> Operation {
    Operation {
        service: service.to_owned(),
        name: name.to_owned(),
        protocol,
        checks,
        secret_by_name: None,
        encrypted_target: None,
    }
}

/// JSON and query protocol operations.
fn build(
    service: &str,
    name: &str,
    protocol: Protocol,
    params: &Params,
    scope: &Scope<'_>,
) -> Result<Operation, RequestError> {
    let Scope { region, account } = *scope;
    let table = |t: &str| format!("arn:aws:dynamodb:{region}:{account}:table/{t}");
    let need = |p: &'static str| params.str(p).ok_or_else(|| missing(service, name, p));
    match service {
        "dynamodb" => {
            let Params::Json(body) = params else { return Err(RequestError::Unmodelled(format!("dynamodb {name}"))) };
            let checks = match name {
                "GetItem" | "PutItem" | "UpdateItem" | "DeleteItem" | "DescribeTable" | "DescribeTimeToLive" => {
                    vec![Check::new(format!("dynamodb:{name}"), table(&need("TableName")?))]
                }
                "Query" | "Scan" => {
                    let mut arn = table(&need("TableName")?);
                    if let Some(index) = params.str("IndexName") {
                        arn = format!("{arn}/index/{index}");
                    }
                    vec![Check::new(format!("dynamodb:{name}"), arn)]
                }
                "BatchGetItem" | "BatchWriteItem" => body
                    .get("RequestItems")
                    .and_then(Value::as_object)
                    .ok_or_else(|| missing(service, name, "RequestItems"))?
                    .keys()
                    .map(|t| Check::new(format!("dynamodb:{name}"), table(t)))
                    .collect(),
                "TransactWriteItems" | "TransactGetItems" => {
                    let items = body
                        .get("TransactItems")
                        .and_then(Value::as_array)
                        .ok_or_else(|| missing(service, name, "TransactItems"))?;
                    let mut checks = Vec::new();
                    for item in items {
                        let Some((kind, inner)) = item.as_object().and_then(|m| m.iter().next()) else { continue };
                        let action = match kind.as_str() {
                            "Put" => "PutItem",
                            "Update" => "UpdateItem",
                            "Delete" => "DeleteItem",
                            "ConditionCheck" => "ConditionCheckItem",
                            "Get" => "GetItem",
                            other => return Err(RequestError::Unmodelled(format!("dynamodb {name} {other}"))),
                        };
                        let t = inner
                            .get("TableName")
                            .and_then(Value::as_str)
                            .ok_or_else(|| missing(service, name, "TableName"))?;
                        checks.push(Check::new(format!("dynamodb:{action}"), table(t)));
                    }
                    checks
                }
                "ListTables" => vec![Check::new("dynamodb:ListTables", "*")],
                other => return Err(RequestError::Unmodelled(format!("dynamodb {other}"))),
            };
            Ok(op(service, name, protocol, checks))
        }
        "sqs" => {
            let action = match name {
                "SendMessageBatch" => "SendMessage",
                "DeleteMessageBatch" => "DeleteMessage",
                "ChangeMessageVisibilityBatch" => "ChangeMessageVisibility",
                other => other,
            };
            let queue_arn = |url: &str| {
                let mut segments = url.trim_end_matches('/').rsplit('/');
                let queue = segments.next().unwrap_or_default();
                let owner = segments.next().filter(|s| s.chars().all(|c| c.is_ascii_digit())).unwrap_or(account);
                format!("arn:aws:sqs:{region}:{owner}:{queue}")
            };
            let arn = match name {
                "GetQueueUrl" => {
                    let owner = params.str("QueueOwnerAWSAccountId").unwrap_or_else(|| account.to_owned());
                    format!("arn:aws:sqs:{region}:{owner}:{}", need("QueueName")?)
                }
                "CreateQueue" => format!("arn:aws:sqs:{region}:{account}:{}", need("QueueName")?),
                "ListQueues" => format!("arn:aws:sqs:{region}:{account}:*"),
                _ => queue_arn(&need("QueueUrl")?),
            };
            let mut operation = op(service, name, protocol, vec![Check::new(format!("sqs:{action}"), &arn)]);
            if matches!(action, "SendMessage" | "ReceiveMessage") {
                operation.encrypted_target = Some(arn);
            }
            Ok(operation)
        }
        "sns" => {
            let topic = params.str("TopicArn").or_else(|| params.str("TargetArn"));
            let resource = match name {
                "Publish" if params.str("PhoneNumber").is_some() => "*".to_owned(),
                "ListTopics" | "CreateTopic" => {
                    params.str("Name").map_or_else(|| "*".to_owned(), |n| format!("arn:aws:sns:{region}:{account}:{n}"))
                }
                _ => topic.clone().ok_or_else(|| missing(service, name, "TopicArn"))?,
            };
            let action = if name == "PublishBatch" { "Publish" } else { name };
            let mut operation = op(service, name, protocol, vec![Check::new(format!("sns:{action}"), resource)]);
            if action == "Publish" {
                operation.encrypted_target = topic;
            }
            Ok(operation)
        }
        "ses" => {
            let (from, recipients) = match name {
                "SendEmail" => (need("Source")?, {
                    let mut all = params.list("Destination.ToAddresses.member.", "");
                    all.extend(params.list("Destination.CcAddresses.member.", ""));
                    all.extend(params.list("Destination.BccAddresses.member.", ""));
                    all
                }),
                "SendRawEmail" => (params.str("Source").unwrap_or_default(), params.list("Destinations.member.", "")),
                other => return Err(RequestError::Unmodelled(format!("ses {other}"))),
            };
            Ok(op(service, name, protocol, vec![ses_check(scope, name, &from, recipients, "1")]))
        }
        "secretsmanager" => {
            let id = need("SecretId")?;
            let mut operation = op(service, name, protocol, vec![Check::new(format!("secretsmanager:{name}"), &id)]);
            if !id.starts_with("arn:") {
                operation.secret_by_name = Some(id);
            }
            Ok(operation)
        }
        "kms" => {
            let key = need("KeyId")?;
            let arn = if key.starts_with("arn:") {
                key
            } else if key.starts_with("alias/") {
                format!("arn:aws:kms:{region}:{account}:{key}")
            } else {
                format!("arn:aws:kms:{region}:{account}:key/{key}")
            };
            Ok(op(service, name, protocol, vec![Check::new(format!("kms:{name}"), arn)]))
        }
        "sts" if name == "GetCallerIdentity" => Ok(op(service, name, protocol, Vec::new())),
        "monitoring" if name == "PutMetricData" => {
            let namespace = params.str("Namespace").unwrap_or_default();
            Ok(op(
                service,
                name,
                protocol,
                vec![Check::new("cloudwatch:PutMetricData", "*").with("cloudwatch:namespace", [namespace])],
            ))
        }
        other => Err(RequestError::Unmodelled(format!("{other} {name}"))),
    }
}

/// SES sends as an identity: the resource is the sender's address identity.
fn ses_check(scope: &Scope<'_>, operation: &str, from: &str, recipients: Vec<String>, api_version: &str) -> Check {
    // A display name may wrap the address: `Name <a@b>`.
    let address = from.rsplit('<').next().unwrap_or(from).trim_end_matches('>').trim().to_owned();
    Check::new(format!("ses:{operation}"), format!("arn:aws:ses:{}:{}:identity/{address}", scope.region, scope.account))
        .with("ses:FromAddress", [address])
        .with("ses:Recipients", recipients)
        .with("ses:ApiVersion", [api_version])
}

/// REST protocols: SES v2, S3, IoT data plane, Connect.
fn rest(
    method: &Method,
    path: &str,
    query: &[(String, String)],
    body: &[u8],
    credential: &Credential,
    scope: &Scope<'_>,
) -> Result<Operation, RequestError> {
    let decoded = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let Scope { region, account } = *scope;
    match credential.service.as_str() {
        "ses" | "email" if path == "/v2/email/outbound-emails" && method == Method::POST => {
            let params = Params::Json(serde_json::from_slice(body).map_err(|_| RequestError::BadJson)?);
            let from = params.str("FromEmailAddress").ok_or_else(|| missing("ses", "SendEmail", "FromEmailAddress"))?;
            let mut recipients = Vec::new();
            for field in ["ToAddresses", "CcAddresses", "BccAddresses"] {
                recipients.extend(params.list("", &format!("/Destination/{field}")));
            }
            let check = ses_check(scope, "SendEmail", &from, recipients, "2");
            Ok(op("ses", "SendEmail", Protocol::RestJson, vec![check]))
        }
        "s3" => {
            let bucket = decoded(segments.first().copied().unwrap_or_default());
            let key = decoded(&segments.get(1..).map(|s| s.join("/")).unwrap_or_default());
            // A bucket GET with only listing parameters is ListObjects(V2); a
            // subresource (`?location`, `?policy`...) is another call, not modelled.
            const LISTING: &[&str] = &[
                "list-type",
                "prefix",
                "delimiter",
                "max-keys",
                "continuation-token",
                "encoding-type",
                "start-after",
                "fetch-owner",
            ];
            let subresource = query.iter().any(|(k, _)| !LISTING.contains(&k.as_str()));
            let (name, action, resource) = if key.is_empty() {
                let bucket_arn = format!("arn:aws:s3:::{bucket}");
                match *method {
                    Method::GET if !subresource => ("ListObjectsV2", "s3:ListBucket", bucket_arn),
                    Method::HEAD => ("HeadBucket", "s3:ListBucket", bucket_arn),
                    Method::PUT if !subresource => ("CreateBucket", "s3:CreateBucket", bucket_arn),
                    _ => return Err(RequestError::Unmodelled(format!("s3 {method} /{bucket}?{query:?}"))),
                }
            } else {
                let object = format!("arn:aws:s3:::{bucket}/{key}");
                match *method {
                    Method::GET => ("GetObject", "s3:GetObject", object),
                    Method::HEAD => ("HeadObject", "s3:GetObject", object),
                    Method::PUT => ("PutObject", "s3:PutObject", object),
                    Method::DELETE => ("DeleteObject", "s3:DeleteObject", object),
                    _ => return Err(RequestError::Unmodelled(format!("s3 {method} object"))),
                }
            };
            let mut check = Check::new(action, resource);
            if action == "s3:ListBucket" {
                let prefix = query.iter().find(|(k, _)| k == "prefix").map(|(_, v)| v.clone());
                check = check.with("s3:prefix", prefix);
            }
            Ok(op("s3", name, Protocol::RestXml, vec![check]))
        }
        "iotdata" | "iot" if segments.first() == Some(&"topics") && method == Method::POST => {
            let topic = decoded(&segments[1..].join("/"));
            let check = Check::new("iot:Publish", format!("arn:aws:iot:{region}:{account}:topic/{topic}"));
            Ok(op("iotdata", "Publish", Protocol::RestJson, vec![check]))
        }
        "connect" if segments.first() == Some(&"contacts") && segments.len() == 3 && method == Method::GET => {
            let (instance, contact) = (decoded(segments[1]), decoded(segments[2]));
            let check = Check::new(
                "connect:DescribeContact",
                format!("arn:aws:connect:{region}:{account}:instance/{instance}/contact/{contact}"),
            );
            Ok(op("connect", "DescribeContact", Protocol::RestJson, vec![check]))
        }
        other => Err(RequestError::Unmodelled(format!("{other} {method} {path}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    const SCOPE: Scope<'static> = Scope { region: "eu-west-2", account: "123456789012" };

    fn credential(service: &str) -> Credential {
        Credential { access_key_id: "AKIA".into(), region: "eu-west-2".into(), service: service.into() }
    }

    fn json(target: &'static str, body: &str, service: &str) -> Operation {
        let mut headers = HeaderMap::new();
        headers.insert("x-amz-target", HeaderValue::from_static(target));
        operation(&Method::POST, "/", None, &headers, body.as_bytes(), &credential(service), &SCOPE).unwrap()
    }

    fn form(body: &str, service: &str) -> Operation {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static("application/x-www-form-urlencoded"));
        operation(&Method::POST, "/", None, &headers, body.as_bytes(), &credential(service), &SCOPE).unwrap()
    }

    fn pairs(op: &Operation) -> Vec<(String, String)> {
        op.checks.iter().map(|c| (c.action.clone(), c.resource.clone())).collect()
    }

    #[test]
    fn the_credential_scope_is_read() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "authorization",
            HeaderValue::from_static("AWS4-HMAC-SHA256 Credential=AKIAX/20240101/eu-west-2/dynamodb/aws4_request, SignedHeaders=host, Signature=0"),
        );
        let c = super::credential(&headers, None).unwrap();
        assert_eq!(
            (c.access_key_id.as_str(), c.region.as_str(), c.service.as_str()),
            ("AKIAX", "eu-west-2", "dynamodb")
        );
    }

    #[test]
    fn dynamodb_names_the_table_index_and_each_transaction_action() {
        let get = json("DynamoDB_20120810.GetItem", r#"{"TableName":"s-activity","Key":{}}"#, "dynamodb");
        assert_eq!(
            pairs(&get),
            [("dynamodb:GetItem".into(), "arn:aws:dynamodb:eu-west-2:123456789012:table/s-activity".into())]
        );
        let query = json("DynamoDB_20120810.Query", r#"{"TableName":"t","IndexName":"outbox"}"#, "dynamodb");
        assert_eq!(query.checks[0].resource, "arn:aws:dynamodb:eu-west-2:123456789012:table/t/index/outbox");
        let tx = json(
            "DynamoDB_20120810.TransactWriteItems",
            r#"{"TransactItems":[{"Put":{"TableName":"a"}},{"ConditionCheck":{"TableName":"b"}},{"Update":{"TableName":"a"}}]}"#,
            "dynamodb",
        );
        let actions: Vec<_> = tx.checks.iter().map(|c| c.action.as_str()).collect();
        assert_eq!(actions, ["dynamodb:PutItem", "dynamodb:ConditionCheckItem", "dynamodb:UpdateItem"]);
        let batch = json("DynamoDB_20120810.BatchGetItem", r#"{"RequestItems":{"a":{},"b":{}}}"#, "dynamodb");
        assert_eq!(batch.checks.len(), 2);
    }

    #[test]
    fn sqs_batches_authorize_as_their_single_actions_on_the_queue_arn() {
        let send = json(
            "AmazonSQS.SendMessageBatch",
            r#"{"QueueUrl":"http://127.0.0.1:4566/123456789012/s-login-events-dlq","Entries":[]}"#,
            "sqs",
        );
        assert_eq!(
            pairs(&send),
            [("sqs:SendMessage".into(), "arn:aws:sqs:eu-west-2:123456789012:s-login-events-dlq".into())]
        );
        assert_eq!(send.encrypted_target.as_deref(), Some("arn:aws:sqs:eu-west-2:123456789012:s-login-events-dlq"));
        let url = json("AmazonSQS.GetQueueUrl", r#"{"QueueName":"q"}"#, "sqs");
        assert_eq!(url.checks[0].resource, "arn:aws:sqs:eu-west-2:123456789012:q");
    }

    #[test]
    fn sns_and_ses_query_calls() {
        let publish = form("Action=Publish&TopicArn=arn%3Aaws%3Asns%3Aeu-west-2%3A123456789012%3At&Message=x", "sns");
        assert_eq!(pairs(&publish), [("sns:Publish".into(), "arn:aws:sns:eu-west-2:123456789012:t".into())]);
        let email = form(
            "Action=SendEmail&Source=Approvals+%3Capprovals%40example.gov.uk%3E&Destination.ToAddresses.member.1=a%40b.c&Destination.BccAddresses.member.1=d%40e.f",
            "email",
        );
        let check = &email.checks[0];
        assert_eq!(check.resource, "arn:aws:ses:eu-west-2:123456789012:identity/approvals@example.gov.uk");
        assert_eq!(
            check.context,
            super::super::evaluate::ConditionContext::default()
                .with("ses:FromAddress", ["approvals@example.gov.uk"])
                .with("ses:Recipients", ["a@b.c", "d@e.f"])
                .with("ses:ApiVersion", ["1"])
        );
    }

    #[test]
    fn rest_calls_of_s3_sesv2_iot_and_connect() {
        let rest_op = |method: Method, path: &str, query: Option<&str>, body: &str, service: &str| {
            operation(&method, path, query, &HeaderMap::new(), body.as_bytes(), &credential(service), &SCOPE).unwrap()
        };
        let list = rest_op(Method::GET, "/bucket", Some("list-type=2&prefix=rec%2F2024"), "", "s3");
        assert_eq!(pairs(&list), [("s3:ListBucket".into(), "arn:aws:s3:::bucket".into())]);
        assert_eq!(
            list.checks[0].context,
            super::super::evaluate::ConditionContext::default().with("s3:prefix", ["rec/2024"])
        );
        let get = rest_op(Method::GET, "/bucket/a/b%20c.wav", None, "", "s3");
        assert_eq!(get.checks[0].resource, "arn:aws:s3:::bucket/a/b c.wav");
        let v2 = rest_op(
            Method::POST,
            "/v2/email/outbound-emails",
            None,
            r#"{"FromEmailAddress":"x@y.z","Destination":{"ToAddresses":["a@b.c"]}}"#,
            "ses",
        );
        assert_eq!(v2.checks[0].resource, "arn:aws:ses:eu-west-2:123456789012:identity/x@y.z");
        let iot = rest_op(Method::POST, "/topics/notifications-u%2F1", Some("qos=1"), "{}", "iotdata");
        assert_eq!(iot.checks[0].resource, "arn:aws:iot:eu-west-2:123456789012:topic/notifications-u/1");
        let contact = rest_op(Method::GET, "/contacts/inst/cid", None, "", "connect");
        assert_eq!(contact.checks[0].resource, "arn:aws:connect:eu-west-2:123456789012:instance/inst/contact/cid");
    }

    #[test]
    fn secrets_named_by_name_are_looked_up_and_unknown_calls_are_refused() {
        let by_name = json("secretsmanager.GetSecretValue", r#"{"SecretId":"workflows/zendesk"}"#, "secretsmanager");
        assert_eq!(by_name.secret_by_name.as_deref(), Some("workflows/zendesk"));
        let mut headers = HeaderMap::new();
        headers.insert("x-amz-target", HeaderValue::from_static("DynamoDB_20120810.ExecuteStatement"));
        let err = operation(&Method::POST, "/", None, &headers, b"{}", &credential("dynamodb"), &SCOPE).unwrap_err();
        assert!(err.to_string().contains("ExecuteStatement"));
    }
}
