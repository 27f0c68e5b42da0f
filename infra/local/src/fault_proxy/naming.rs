//! The `Service.Operation` name of an AWS request, e.g. `DynamoDB.PutItem`,
//! `SQS.SendMessage`, `SNS.Publish`: the service from the `X-Amz-Target`
//! prefix (JSON protocols) or else the SigV4 credential scope (query and REST
//! protocols); the operation from the target or `Action`, or for REST calls
//! (S3) the HTTP method.

use axum::http::{HeaderMap, Method};

use super::faults::operation_of;
use crate::iam::request::credential;

/// The short name of a JSON-protocol target prefix (`DynamoDB_20120810`).
pub fn service_from_target(prefix: &str) -> String {
    let known = match prefix {
        "DynamoDB_20120810" => "DynamoDB",
        "DynamoDBStreams_20120810" => "DynamoDBStreams",
        "AmazonSQS" => "SQS",
        "secretsmanager" => "SecretsManager",
        "TrentService" => "KMS",
        "Logs_20140328" => "CloudWatchLogs",
        "GraniteServiceVersion20100801" => "CloudWatch",
        "AWSEvents" => "EventBridge",
        "AmazonSSM" => "SSM",
        "AWSStepFunctions" => "StepFunctions",
        other => return other.to_owned(),
    };
    known.to_owned()
}

/// The short name of a SigV4 signing name (`sns`, `email`, `s3`...).
pub fn service_from_scope(signing_name: &str) -> String {
    let known = match signing_name {
        "sns" => "SNS",
        "sqs" => "SQS",
        "ses" | "email" => "SES",
        "s3" => "S3",
        "dynamodb" => "DynamoDB",
        "secretsmanager" => "SecretsManager",
        "kms" => "KMS",
        "logs" => "CloudWatchLogs",
        "monitoring" => "CloudWatch",
        "events" => "EventBridge",
        "sts" => "STS",
        "lambda" => "Lambda",
        "ssm" => "SSM",
        "states" => "StepFunctions",
        other => return other.to_owned(),
    };
    known.to_owned()
}

/// `Service.Operation` for one request (`Unknown` for parts not found).
pub fn request_name(method: &Method, headers: &HeaderMap, query: Option<&str>, body: &[u8]) -> String {
    let target = headers.get("x-amz-target").and_then(|v| v.to_str().ok());
    let service = match target.and_then(|t| t.rsplit_once('.')) {
        Some((prefix, _)) => service_from_target(prefix),
        None => credential(headers, query).map_or_else(|| "Unknown".to_owned(), |c| service_from_scope(&c.service)),
    };
    let operation = operation_of(headers, query, body).unwrap_or_else(|| method.as_str().to_owned());
    format!("{service}.{operation}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs.iter().map(|(k, v)| (axum::http::HeaderName::from_static(k), HeaderValue::from_static(v))).collect()
    }

    const SNS_AUTH: &str =
        "AWS4-HMAC-SHA256 Credential=test/20240101/eu-west-2/sns/aws4_request, SignedHeaders=host, Signature=0";

    #[test]
    fn json_protocols_are_named_from_the_target() {
        let dynamo = headers(&[("x-amz-target", "DynamoDB_20120810.TransactWriteItems")]);
        assert_eq!(request_name(&Method::POST, &dynamo, None, b"{}"), "DynamoDB.TransactWriteItems");
        let sqs = headers(&[("x-amz-target", "AmazonSQS.SendMessage")]);
        assert_eq!(request_name(&Method::POST, &sqs, None, b"{}"), "SQS.SendMessage");
        let secrets = headers(&[("x-amz-target", "secretsmanager.GetSecretValue")]);
        assert_eq!(request_name(&Method::POST, &secrets, None, b"{}"), "SecretsManager.GetSecretValue");
        let other = headers(&[("x-amz-target", "SomethingNew_2030.DoIt")]);
        assert_eq!(request_name(&Method::POST, &other, None, b"{}"), "SomethingNew_2030.DoIt");
    }

    #[test]
    fn query_protocols_are_named_from_the_credential_scope_and_action() {
        let sns = headers(&[("authorization", SNS_AUTH), ("content-type", "application/x-www-form-urlencoded")]);
        assert_eq!(request_name(&Method::POST, &sns, None, b"Action=Publish&TopicArn=x"), "SNS.Publish");
        let presigned = "Action=SendEmail&X-Amz-Credential=test%2F20240101%2Feu-west-2%2Fses%2Faws4_request";
        assert_eq!(request_name(&Method::GET, &HeaderMap::new(), Some(presigned), b""), "SES.SendEmail");
    }

    #[test]
    fn rest_calls_use_the_method_and_unknowns_say_so() {
        let s3 = headers(&[(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=test/20240101/eu-west-2/s3/aws4_request, SignedHeaders=host, Signature=0",
        )]);
        assert_eq!(request_name(&Method::PUT, &s3, None, b"data"), "S3.PUT");
        assert_eq!(request_name(&Method::GET, &HeaderMap::new(), None, b""), "Unknown.GET");
    }
}
