//! AWS's own quotas, enforced at the proxy: a request AWS would refuse for
//! going over a documented limit is refused here, before it reaches the
//! emulator, with the error AWS returns for it — the same HTTP status, error
//! code and message, in the wire shape of the service's protocol, so that the
//! SDK parses it into the same typed error. moto enforces some of these limits
//! with other codes, counts sizes differently or not at all (see
//! docs/local-stack-quotas.md for the table and the known differences).
//!
//! [`check`] is pure: it reads the request's method, path, headers, query and
//! body (what `operation_of` and `request_name` read, plus the path, which is
//! how SES v2's REST API names its operation) and answers `None` for anything
//! it does not recognise or cannot parse, leaving that to the emulator.
//!
//! Messages are AWS's own text. Where that text does not state the figures,
//! the proxy appends them: `Invalid parameter: Message too long (local stack:
//! message and attributes are 262145 bytes, limit 262144)`.
//!
//! Covered: SQS over AWS JSON 1.0 (the protocol of every current SDK; SQS's
//! older query protocol is forwarded unchecked), SNS and SES v1 over the query
//! protocol, SES v2 over REST-JSON and DynamoDB over AWS JSON 1.0.

mod dynamodb;
#[cfg(test)]
mod sdk_parsing;
mod ses;
mod sns;
mod sqs;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Response, StatusCode};
use serde_json::{json, Map, Value};
use tracing::warn;

use super::faults::operation_of;

/// A request AWS would refuse, and how AWS refuses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaViolation {
    /// The limit, for logs: `SQS.SendMessageBatch entries`.
    pub rule: &'static str,
    /// The HTTP status AWS answers with (400 for every rule here).
    pub status: u16,
    /// The error code and the protocol's shape for it.
    pub error: ErrorShape,
    /// AWS's message, with the figures appended where AWS leaves them out.
    pub message: String,
}

/// An AWS error code in the wire shape of its service's protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorShape {
    /// AWS JSON 1.0 with the `awsQueryCompatible` trait (SQS): `__type` in the
    /// body, and the query protocol's code in `x-amzn-query-error:
    /// CODE;Sender`, which the SDKs match on before `__type`.
    AwsJsonQueryCompatible { type_name: &'static str, query_code: &'static str },
    /// AWS JSON 1.0 (DynamoDB): `{"__type": "ns#Code", "message": ...}`.
    AwsJson { type_name: &'static str },
    /// REST-JSON (SES v2): the code in `x-amzn-ErrorType`, `{"message": ...}`.
    RestJson { error_type: &'static str },
    /// The query protocol (SNS, SES v1): an XML `ErrorResponse`.
    AwsQuery { code: &'static str, xmlns: &'static str },
}

impl ErrorShape {
    /// The code the SDKs match on (`AWS.SimpleQueueService.EmptyBatchRequest`,
    /// `ValidationException`, `InvalidParameter`...).
    pub fn code(&self) -> &'static str {
        match *self {
            Self::AwsJsonQueryCompatible { query_code, .. } => query_code,
            Self::AwsJson { type_name } => type_name.rsplit('#').next().unwrap_or(type_name),
            Self::RestJson { error_type } => error_type,
            Self::AwsQuery { code, .. } => code,
        }
    }
}

impl QuotaViolation {
    fn bad_request(rule: &'static str, error: ErrorShape, message: impl Into<String>) -> Self {
        Self { rule, status: 400, error, message: message.into() }
    }

    /// Logs the refusal and answers it the way AWS would.
    pub fn refuse(&self) -> Response<Body> {
        warn!(rule = self.rule, code = self.error.code(), message = %self.message, "refused: over an AWS quota");
        self.response()
    }

    /// The response AWS sends for this error.
    pub fn response(&self) -> Response<Body> {
        error_response(self.status, self.error, &self.message)
    }
}

/// The quota `request` breaks, if any. `path` is the URI path (no query).
pub fn check(
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    query: Option<&str>,
    body: &[u8],
) -> Option<QuotaViolation> {
    if let Some(target) = headers.get("x-amz-target").and_then(|v| v.to_str().ok()) {
        let (prefix, operation) = target.rsplit_once('.')?;
        return match prefix {
            "AmazonSQS" => sqs::check(operation, body),
            "DynamoDB_20120810" => dynamodb::check(operation, body),
            _ => None,
        };
    }
    if method == Method::POST && path.trim_end_matches('/') == ses::V2_SEND_EMAIL_PATH {
        return ses::check_v2(body);
    }
    match operation_of(headers, query, body)?.as_str() {
        "Publish" => sns::check_publish(&query_params(headers, query, body)),
        "PublishBatch" => sns::check_publish_batch(&query_params(headers, query, body)),
        "SendEmail" => ses::check_v1(&query_params(headers, query, body)),
        _ => None,
    }
}

/// An AWS error response: `status`, the shape's headers and body, a request id.
pub fn error_response(status: u16, shape: ErrorShape, message: &str) -> Response<Body> {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    let request_id = uuid::Uuid::new_v4().to_string();
    let to_bytes = |value: Value| Bytes::from(value.to_string());
    let (content_type, body, extra): (&str, Bytes, Option<(&'static str, String)>) = match shape {
        ErrorShape::AwsJsonQueryCompatible { type_name, query_code } => {
            let fault = if status.is_client_error() { "Sender" } else { "Receiver" };
            (
                "application/x-amz-json-1.0",
                to_bytes(json!({"__type": type_name, "message": message})),
                Some(("x-amzn-query-error", format!("{query_code};{fault}"))),
            )
        }
        ErrorShape::AwsJson { type_name } => {
            ("application/x-amz-json-1.0", to_bytes(json!({"__type": type_name, "message": message})), None)
        }
        ErrorShape::RestJson { error_type } => {
            ("application/json", to_bytes(json!({"message": message})), Some(("x-amzn-errortype", error_type.into())))
        }
        ErrorShape::AwsQuery { code, xmlns } => {
            let kind = if status.is_client_error() { "Sender" } else { "Receiver" };
            let xml = format!(
                "<ErrorResponse xmlns=\"{xmlns}\"><Error><Type>{kind}</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>",
                xml_escape(code),
                xml_escape(message),
            );
            ("text/xml", Bytes::from(xml), None)
        }
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert("content-type", HeaderValue::from_static(content_type));
    if let Ok(id) = HeaderValue::from_str(&request_id) {
        headers.insert(HeaderName::from_static("x-amzn-requestid"), id);
    }
    if let Some((name, value)) = extra {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(HeaderName::from_static(name), value);
        }
    }
    response
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// `aws` with the figures AWS leaves out: `"{aws} (local stack: {detail})"`.
fn with_detail(aws: &str, detail: impl std::fmt::Display) -> String {
    format!("{aws} (local stack: {detail})")
}

/// A JSON body, or `None` (not ours to judge: the emulator answers).
fn json_body(body: &[u8]) -> Option<Value> {
    serde_json::from_slice(body).ok()
}

/// The query protocol's parameters (query string and form body) as a tree:
/// `Destination.ToAddresses.member.2=b` becomes
/// `{"Destination": {"ToAddresses": {"member": {"2": "b"}}}}`. A key that
/// would put an object where a value already is (or the reverse) is dropped.
fn query_params(headers: &HeaderMap, query: Option<&str>, body: &[u8]) -> Value {
    let is_form = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    let from_query = form_urlencoded::parse(query.unwrap_or_default().as_bytes());
    let from_body = form_urlencoded::parse(if is_form { body } else { b"" });
    let mut root = Map::new();
    'pairs: for (key, value) in from_query.chain(from_body) {
        let segments: Vec<&str> = key.split('.').collect();
        let Some((last, parents)) = segments.split_last() else { continue };
        let mut node = &mut root;
        for segment in parents {
            let child = node.entry((*segment).to_owned()).or_insert_with(|| Value::Object(Map::new()));
            let Value::Object(child) = child else { continue 'pairs };
            node = child;
        }
        node.entry((*last).to_owned()).or_insert_with(|| Value::String(value.into_owned()));
    }
    Value::Object(root)
}

/// The elements of a list: a JSON array, or a query-protocol list
/// (`{"member": {"1": .., "2": ..}}`, or `""` when the SDK sent it empty), in
/// index order. `None` when the list is absent or not a list.
fn list_items(value: Option<&Value>) -> Option<Vec<&Value>> {
    match value? {
        Value::Array(items) => Some(items.iter().collect()),
        Value::String(empty) if empty.is_empty() => Some(Vec::new()),
        Value::Object(list) => {
            let Some(Value::Object(members)) = list.get("member") else { return None };
            Some(indexed(members).into_iter().map(|(_, v)| v).collect())
        }
        _ => None,
    }
}

/// A query-protocol list or map's entries by numeric index, in order.
fn indexed(entries: &Map<String, Value>) -> Vec<(u64, &Value)> {
    let mut items: Vec<(u64, &Value)> =
        entries.iter().filter_map(|(index, v)| index.parse::<u64>().ok().map(|i| (i, v))).collect();
    items.sort_by_key(|(i, _)| *i);
    items
}

/// Message attributes (SQS and SNS) as `(name, {DataType, StringValue |
/// BinaryValue})`: from a JSON map, or from the query protocol's
/// `MessageAttributes.entry.N.Name` / `.Value.*`.
fn message_attributes(value: Option<&Value>, query_protocol: bool) -> Vec<(&str, &Value)> {
    let Some(Value::Object(map)) = value else { return Vec::new() };
    if !query_protocol {
        return map.iter().map(|(name, v)| (name.as_str(), v)).collect();
    }
    let Some(Value::Object(entries)) = map.get("entry") else { return Vec::new() };
    indexed(entries)
        .into_iter()
        .filter_map(|(_, entry)| Some((entry.get("Name")?.as_str()?, entry.get("Value")?)))
        .collect()
}

/// What a message attribute adds to a message's size, as SQS and SNS count
/// it: "All parts of the message attribute, including Name, Type, and Value,
/// are part of the message size restriction" (SQS `MessageAttributeValue`;
/// SNS likewise): name, data type and value in UTF-8 bytes, a binary value in
/// raw (decoded) bytes.
fn attribute_bytes(name: &str, value: &Value) -> usize {
    let text = |field: &str| value.get(field).and_then(Value::as_str);
    name.len()
        + text("DataType").map_or(0, str::len)
        + text("StringValue").map_or(0, str::len)
        + text("BinaryValue").map_or(0, base64_decoded_len)
}

/// The size of what a base64 string encodes, without decoding it.
fn base64_decoded_len(encoded: &str) -> usize {
    let symbols = encoded.bytes().filter(|b| !b.is_ascii_whitespace() && *b != b'=').count();
    symbols * 3 / 4
}

/// The distinct-ness of batch entry ids: the first id that repeats.
fn first_repeated_id<'a>(entries: &[&'a Value]) -> Option<&'a str> {
    let mut seen = std::collections::BTreeSet::new();
    entries.iter().copied().filter_map(|entry| entry.get("Id").and_then(Value::as_str)).find(|id| !seen.insert(*id))
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn target(value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-amz-target", HeaderValue::from_static(value));
        headers.insert("content-type", HeaderValue::from_static("application/x-amz-json-1.0"));
        headers
    }

    pub(super) fn form() -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static("application/x-www-form-urlencoded; charset=utf-8"));
        headers
    }

    async fn parts(response: Response<Body>) -> (u16, HeaderMap, String) {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.expect("body");
        (status, headers, String::from_utf8(bytes.to_vec()).expect("utf-8"))
    }

    #[tokio::test]
    async fn sqs_errors_carry_the_type_and_the_query_compatible_code() {
        let shape = ErrorShape::AwsJsonQueryCompatible {
            type_name: "com.amazonaws.sqs#TooManyEntriesInBatchRequest",
            query_code: "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
        };
        let (status, headers, body) = parts(error_response(400, shape, "too <many>")).await;
        assert_eq!(status, 400);
        assert_eq!(headers["content-type"], "application/x-amz-json-1.0");
        assert_eq!(headers["x-amzn-query-error"], "AWS.SimpleQueueService.TooManyEntriesInBatchRequest;Sender");
        assert!(headers.contains_key("x-amzn-requestid"));
        let body: Value = serde_json::from_str(&body).expect("json");
        assert_eq!(body, json!({"__type": "com.amazonaws.sqs#TooManyEntriesInBatchRequest", "message": "too <many>"}));
        assert_eq!(shape.code(), "AWS.SimpleQueueService.TooManyEntriesInBatchRequest");
    }

    #[tokio::test]
    async fn dynamodb_errors_are_json_with_a_namespaced_type() {
        let shape = ErrorShape::AwsJson { type_name: "com.amazonaws.dynamodb.v20120810#ValidationException" };
        let (status, headers, body) = parts(error_response(400, shape, "Item size")).await;
        assert_eq!(status, 400);
        assert_eq!(headers["content-type"], "application/x-amz-json-1.0");
        assert!(!headers.contains_key("x-amzn-query-error"));
        let body: Value = serde_json::from_str(&body).expect("json");
        assert_eq!(body["__type"], "com.amazonaws.dynamodb.v20120810#ValidationException");
        assert_eq!(body["message"], "Item size");
        assert_eq!(shape.code(), "ValidationException");
    }

    #[tokio::test]
    async fn rest_json_errors_name_the_type_in_a_header() {
        let shape = ErrorShape::RestJson { error_type: "BadRequestException" };
        let (status, headers, body) = parts(error_response(400, shape, "Recipient count exceeds 50.")).await;
        assert_eq!(status, 400);
        assert_eq!(headers["content-type"], "application/json");
        assert_eq!(headers["x-amzn-errortype"], "BadRequestException");
        assert_eq!(
            serde_json::from_str::<Value>(&body).expect("json"),
            json!({"message": "Recipient count exceeds 50."})
        );
    }

    #[tokio::test]
    async fn query_errors_are_an_xml_error_response() {
        let shape =
            ErrorShape::AwsQuery { code: "InvalidParameter", xmlns: "http://sns.amazonaws.com/doc/2010-03-31/" };
        let (status, headers, body) =
            parts(error_response(400, shape, "Invalid parameter: Message too long & <big>")).await;
        assert_eq!(status, 400);
        assert_eq!(headers["content-type"], "text/xml");
        assert!(body.starts_with(
            "<ErrorResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><Error><Type>Sender</Type><Code>InvalidParameter</Code><Message>Invalid parameter: Message too long &amp; &lt;big&gt;</Message></Error><RequestId>"
        ), "{body}");
        assert!(body.ends_with("</RequestId></ErrorResponse>"), "{body}");
    }

    #[test]
    fn query_parameters_become_a_tree_with_lists_in_index_order() {
        let body = b"Action=SendEmail&Destination.ToAddresses.member.2=b&Destination.ToAddresses.member.10=c&Destination.ToAddresses.member.1=a&Source=s";
        let params = query_params(&form(), Some("Version=2010-12-01"), body);
        assert_eq!(params["Version"], "2010-12-01");
        assert_eq!(params["Source"], "s");
        let to = list_items(params["Destination"].get("ToAddresses")).expect("list");
        assert_eq!(to, [&json!("a"), &json!("b"), &json!("c")]);
        assert_eq!(list_items(params.get("Missing")), None);
        // An empty list as the SDK writes it, and a conflicting key that is dropped.
        let params = query_params(&form(), None, b"Entries=&Entries.member.1=x");
        assert_eq!(list_items(params.get("Entries")), Some(vec![]));
        // A body that is not a form is not read.
        assert_eq!(query_params(&HeaderMap::new(), None, b"Action=Publish"), json!({}));
    }

    #[test]
    fn attributes_count_name_type_and_value_bytes() {
        let json_attrs = json!({
            "kind": {"DataType": "String", "StringValue": "é"},
            "raw": {"DataType": "Binary", "BinaryValue": "AAECAw=="}
        });
        let size: usize =
            message_attributes(Some(&json_attrs), false).into_iter().map(|(n, v)| attribute_bytes(n, v)).sum();
        assert_eq!(size, (4 + 6 + 2) + (3 + 6 + 4));
        let form = query_params(
            &form(),
            None,
            b"MessageAttributes.entry.1.Name=kind&MessageAttributes.entry.1.Value.DataType=String&MessageAttributes.entry.1.Value.StringValue=abc",
        );
        let attrs = message_attributes(form.get("MessageAttributes"), true);
        assert_eq!(attrs.len(), 1);
        assert_eq!(attribute_bytes(attrs[0].0, attrs[0].1), 4 + 6 + 3);
        assert_eq!(base64_decoded_len("AAECAw=="), 4);
        assert_eq!(base64_decoded_len("AAECAwQ"), 5);
        assert_eq!(base64_decoded_len(""), 0);
    }

    #[test]
    fn requests_that_are_not_ours_pass() {
        // Unknown targets, unparsable bodies, other services and operations.
        assert_eq!(check(&Method::POST, "/", &target("AmazonSQS.SendMessage"), None, b"not json"), None);
        assert_eq!(check(&Method::POST, "/", &target("secretsmanager.GetSecretValue"), None, b"{}"), None);
        assert_eq!(check(&Method::POST, "/", &target("DynamoDB_20120810.GetItem"), None, b"{}"), None);
        assert_eq!(check(&Method::GET, "/v2/email/outbound-emails", &HeaderMap::new(), None, b""), None);
        assert_eq!(check(&Method::POST, "/", &form(), None, b"Action=ListTopics"), None);
        assert_eq!(check(&Method::PUT, "/bucket/key", &HeaderMap::new(), None, b"data"), None);
    }
}
