//! A refused call answered as the service itself answers it, so the SDK
//! parses it into the same error (code, status) it would get from AWS and
//! the kit classifies it the same way.

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, Response, StatusCode};

use super::request::Protocol;

/// Why a call is refused, in AWS's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    /// The error code the SDK reports (`AccessDeniedException`, `AuthorizationError`...).
    pub code: String,
    /// The JSON `__type` when it differs from `code` (service-qualified names).
    pub json_type: Option<String>,
    /// SQS's `x-amzn-query-error` (`AccessDenied;Sender`): how its JSON
    /// protocol carries the code the query protocol had.
    pub query_error: Option<String>,
    pub message: String,
    pub protocol: Protocol,
}

/// Why a call was refused: no permission, or credentials the stack does not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    AccessDenied,
    KmsAccessDenied,
    UnknownCredentials,
}

/// The refusal a service gives for `kind`.
pub fn refusal(service: &str, protocol: Protocol, kind: Kind, message: String) -> Refusal {
    let r = |status: u16, code: &str, json_type: Option<&str>, query_error: Option<&str>| Refusal {
        status,
        code: code.to_owned(),
        json_type: json_type.map(str::to_owned),
        query_error: query_error.map(str::to_owned),
        message: message.clone(),
        protocol,
    };
    match (service, kind) {
        ("dynamodb", Kind::AccessDenied) => {
            r(400, "AccessDeniedException", Some("com.amazonaws.dynamodb.v20120810#AccessDeniedException"), None)
        }
        ("dynamodb", _) => r(
            400,
            "UnrecognizedClientException",
            Some("com.amazonaws.dynamodb.v20120810#UnrecognizedClientException"),
            None,
        ),
        ("sqs", Kind::AccessDenied) => {
            r(403, "AccessDenied", Some("com.amazon.coral.service#AccessDeniedException"), Some("AccessDenied;Sender"))
        }
        ("sqs", Kind::KmsAccessDenied) => r(
            400,
            "KmsAccessDenied",
            Some("com.amazonaws.sqs#KmsAccessDenied"),
            Some("KMS.AccessDeniedException;Sender"),
        ),
        ("sqs", Kind::UnknownCredentials) => r(
            403,
            "InvalidClientTokenId",
            Some("com.amazon.coral.service#UnrecognizedClientException"),
            Some("InvalidClientTokenId;Sender"),
        ),
        ("sns", Kind::AccessDenied) => r(403, "AuthorizationError", None, None),
        ("sns", Kind::KmsAccessDenied) => r(400, "KMSAccessDenied", None, None),
        ("s3", Kind::AccessDenied | Kind::KmsAccessDenied) => r(403, "AccessDenied", None, None),
        ("s3", Kind::UnknownCredentials) => r(403, "InvalidAccessKeyId", None, None),
        ("iotdata", Kind::AccessDenied | Kind::KmsAccessDenied) => r(403, "ForbiddenException", None, None),
        ("ses", Kind::AccessDenied) if protocol == Protocol::Query => r(403, "AccessDenied", None, None),
        (_, Kind::UnknownCredentials) if protocol == Protocol::AwsJson => {
            r(400, "UnrecognizedClientException", None, None)
        }
        (_, Kind::UnknownCredentials) => r(403, "InvalidClientTokenId", None, None),
        (_, _) if protocol == Protocol::AwsJson => r(400, "AccessDeniedException", None, None),
        (_, _) if protocol == Protocol::Query => r(403, "AccessDenied", None, None),
        (_, _) => r(403, "AccessDeniedException", None, None),
    }
}

/// The HTTP answer for a refusal.
pub fn response(refusal: &Refusal) -> Response<Body> {
    let request_id = uuid::Uuid::new_v4().to_string();
    let message = xml_escape(&refusal.message);
    let (content_type, body) = match refusal.protocol {
        Protocol::AwsJson => (
            "application/x-amz-json-1.0",
            serde_json::json!({"__type": refusal.json_type.as_deref().unwrap_or(&refusal.code), "message": refusal.message}).to_string(),
        ),
        Protocol::RestJson => ("application/json", serde_json::json!({"message": refusal.message}).to_string()),
        Protocol::Query => (
            "text/xml",
            format!(
                "<ErrorResponse><Error><Type>Sender</Type><Code>{}</Code><Message>{message}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>",
                refusal.code
            ),
        ),
        Protocol::RestXml => (
            "application/xml",
            format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code><Message>{message}</Message><RequestId>{request_id}</RequestId></Error>", refusal.code),
        ),
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::from_u16(refusal.status).unwrap_or(StatusCode::FORBIDDEN);
    let headers = response.headers_mut();
    headers.insert("content-type", HeaderValue::from_static(content_type));
    if let Ok(code) = HeaderValue::from_str(&refusal.code) {
        headers.insert(HeaderName::from_static("x-amzn-errortype"), code);
    }
    if let Some(Ok(q)) = refusal.query_error.as_deref().map(HeaderValue::from_str) {
        headers.insert(HeaderName::from_static("x-amzn-query-error"), q);
    }
    if let Ok(id) = HeaderValue::from_str(&request_id) {
        headers.insert(HeaderName::from_static("x-amzn-requestid"), id);
    }
    response
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}
