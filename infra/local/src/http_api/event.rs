//! API Gateway HTTP API payload format 2.0: the request event, and the
//! mapping of the function's response back to HTTP.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Response, StatusCode};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use super::jwt::{claims_as_strings, scopes};
use super::routes::RouteMatch;

/// The request as received, before it becomes an event.
#[derive(Debug, Clone)]
pub struct IncomingRequest<'a> {
    pub method: &'a str,
    pub raw_path: &'a str,
    pub raw_query: &'a str,
    pub protocol: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    pub source_ip: String,
    pub request_id: String,
    pub time: DateTime<Utc>,
}

/// Where the event says it came from.
#[derive(Debug, Clone)]
pub struct ApiContext<'a> {
    pub account_id: &'a str,
    pub api_id: &'a str,
}

/// Builds the v2.0 event for a matched request. `claims` are the verified
/// JWT claims when the route has a JWT authorizer.
pub fn build_event(
    request: &IncomingRequest<'_>,
    matched: &RouteMatch<'_>,
    claims: Option<&Map<String, Value>>,
    api: &ApiContext<'_>,
) -> Value {
    let (headers, cookies) = headers_and_cookies(request.headers);
    let domain_name = headers.get("host").and_then(Value::as_str).unwrap_or("localhost").to_owned();
    let domain_prefix = domain_name.split('.').next().unwrap_or_default().to_owned();
    let user_agent = headers.get("user-agent").and_then(Value::as_str).unwrap_or_default().to_owned();
    let route_key = matched.route.route_key.clone();

    let mut context = json!({
        "accountId": api.account_id,
        "apiId": api.api_id,
        "domainName": domain_name,
        "domainPrefix": domain_prefix,
        "http": {
            "method": request.method,
            "path": request.raw_path,
            "protocol": request.protocol,
            "sourceIp": request.source_ip,
            "userAgent": user_agent,
        },
        "requestId": request.request_id,
        "routeKey": route_key,
        "stage": "$default",
        "time": request.time.format("%d/%b/%Y:%H:%M:%S +0000").to_string(),
        "timeEpoch": request.time.timestamp_millis(),
    });
    if let (Some(claims), Some(ctx)) = (claims, context.as_object_mut()) {
        ctx.insert(
            "authorizer".into(),
            json!({"jwt": {"claims": claims_as_strings(claims), "scopes": scopes(claims)}}),
        );
    }

    let mut event = json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": request.raw_path,
        "rawQueryString": request.raw_query,
        "headers": headers,
        "requestContext": context,
        "isBase64Encoded": false,
    });
    let Some(map) = event.as_object_mut() else {
        return event;
    };
    if !cookies.is_empty() {
        map.insert("cookies".into(), json!(cookies));
    }
    let query = query_parameters(request.raw_query);
    if !query.is_empty() {
        map.insert("queryStringParameters".into(), json!(query));
    }
    if !matched.path_parameters.is_empty() {
        map.insert("pathParameters".into(), json!(matched.path_parameters));
    }
    if !request.body.is_empty() {
        let content_type = request.headers.get("content-type").and_then(|v| v.to_str().ok());
        match std::str::from_utf8(request.body) {
            Ok(text) if is_text(content_type) => {
                map.insert("body".into(), Value::String(text.to_owned()));
            }
            _ => {
                map.insert(
                    "body".into(),
                    Value::String(base64::engine::general_purpose::STANDARD.encode(request.body)),
                );
                map.insert("isBase64Encoded".into(), Value::Bool(true));
            }
        }
    }
    event
}

/// Puts the caller's IAM identity (see `iam_auth::identity`) where API Gateway
/// does for an `AWS_IAM` route: `requestContext.authorizer.iam`.
pub fn insert_iam_identity(event: &mut Value, identity: Value) {
    if let Some(ctx) = event.get_mut("requestContext").and_then(Value::as_object_mut) {
        ctx.insert("authorizer".into(), json!({ "iam": identity }));
    }
}

/// Lower-cased headers, repeated ones comma-joined; cookies go to their own
/// list, as in the v2.0 format.
fn headers_and_cookies(headers: &HeaderMap) -> (Map<String, Value>, Vec<String>) {
    let mut joined: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut cookies = Vec::new();
    for (name, value) in headers {
        let Ok(value) = value.to_str() else { continue };
        if name.as_str() == "cookie" {
            cookies.extend(value.split(';').map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()));
            continue;
        }
        joined.entry(name.as_str().to_ascii_lowercase()).or_default().push(value.to_owned());
    }
    let headers = joined.into_iter().map(|(k, v)| (k, Value::String(v.join(",")))).collect();
    (headers, cookies)
}

/// Decoded query parameters, repeated keys comma-joined.
fn query_parameters(raw: &str) -> BTreeMap<String, String> {
    let mut params: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in form_urlencoded::parse(raw.as_bytes()) {
        params
            .entry(k.into_owned())
            .and_modify(|existing| {
                existing.push(',');
                existing.push_str(&v);
            })
            .or_insert_with(|| v.into_owned());
    }
    params
}

fn is_text(content_type: Option<&str>) -> bool {
    let Some(ct) = content_type else { return true };
    let ct = ct.to_ascii_lowercase();
    ct.starts_with("text/")
        || ct.contains("json")
        || ct.contains("xml")
        || ct.contains("javascript")
        || ct.contains("x-www-form-urlencoded")
}

/// Why a function's response could not become an HTTP response.
#[derive(Debug, thiserror::Error)]
pub enum ResponseError {
    #[error("statusCode {0} is not a valid HTTP status")]
    Status(String),
    #[error("body is not valid base64")]
    Base64(#[from] base64::DecodeError),
    #[error("invalid header {0}")]
    Header(String),
}

/// Maps the function's v2.0 response: a `statusCode` object as such, any
/// other JSON value as a 200 with that JSON as the body.
pub fn map_response(value: Value) -> Result<Response<Body>, ResponseError> {
    let Some(object) = value.as_object().filter(|o| o.contains_key("statusCode")) else {
        let mut response = Response::new(Body::from(value.to_string()));
        response.headers_mut().insert("content-type", HeaderValue::from_static("application/json"));
        return Ok(response);
    };
    let status = match object.get("statusCode") {
        Some(Value::Number(n)) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
        Some(Value::String(s)) => s.parse().ok(),
        _ => None,
    }
    .and_then(|code| StatusCode::from_u16(code).ok())
    .ok_or_else(|| ResponseError::Status(object.get("statusCode").map(Value::to_string).unwrap_or_default()))?;
    let body = match object.get("body") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) if object.get("isBase64Encoded").and_then(Value::as_bool) == Some(true) => {
            base64::engine::general_purpose::STANDARD.decode(s)?
        }
        Some(Value::String(s)) => s.clone().into_bytes(),
        Some(other) => other.to_string().into_bytes(),
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    if let Some(map) = object.get("headers").and_then(Value::as_object) {
        for (name, value) in map {
            let text = match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| ResponseError::Header(name.clone()))?;
            let value = HeaderValue::from_str(&text).map_err(|_| ResponseError::Header(name.to_string()))?;
            headers.insert(name, value);
        }
    }
    if let Some(cookies) = object.get("cookies").and_then(Value::as_array) {
        for cookie in cookies.iter().filter_map(Value::as_str) {
            let value = HeaderValue::from_str(cookie).map_err(|_| ResponseError::Header("set-cookie".into()))?;
            headers.append("set-cookie", value);
        }
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http_api::routes::{Route, RouteTable};
    use crate::template::{HttpRouteSpec, RouteAuthSpec};

    fn table() -> RouteTable {
        RouteTable::new(vec![Route::new(
            "QueryApi",
            &HttpRouteSpec {
                name: "UserServices".into(),
                api: Some("HttpApi".into()),
                method: "GET".into(),
                path: "/users/{user_id}/services".into(),
                auth: RouteAuthSpec::None,
            },
        )])
    }

    fn event(claims: Option<&Map<String, Value>>) -> Value {
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_static("127.0.0.1:3000"));
        headers.insert("user-agent", HeaderValue::from_static("curl/8"));
        headers.append("x-multi", HeaderValue::from_static("a"));
        headers.append("x-multi", HeaderValue::from_static("b"));
        headers.insert("cookie", HeaderValue::from_static("c1=v1; c2=v2"));
        let request = IncomingRequest {
            method: "GET",
            raw_path: "/users/u1/services",
            raw_query: "limit=5&tag=a&tag=b&q=a%20b",
            protocol: "HTTP/1.1",
            headers: &headers,
            body: b"",
            source_ip: "127.0.0.1".into(),
            request_id: "req-1".into(),
            time: Utc::now(),
        };
        let t = table();
        let matched = t.find("GET", "/users/u1/services").expect("route");
        build_event(&request, &matched, claims, &ApiContext { account_id: "123456789012", api_id: "local" })
    }

    #[test]
    fn event_has_the_v2_shape() {
        let claims: Map<String, Value> =
            serde_json::from_value(json!({"sub": "u1", "exp": 1, "aud": "api"})).expect("claims");
        let e = event(Some(&claims));
        assert_eq!(e["version"], "2.0");
        assert_eq!(e["routeKey"], "GET /users/{user_id}/services");
        assert_eq!(e["rawPath"], "/users/u1/services");
        assert_eq!(e["rawQueryString"], "limit=5&tag=a&tag=b&q=a%20b");
        assert_eq!(e["headers"]["x-multi"], "a,b");
        assert!(e["headers"].get("cookie").is_none());
        assert_eq!(e["cookies"], json!(["c1=v1", "c2=v2"]));
        assert_eq!(e["queryStringParameters"], json!({"limit": "5", "tag": "a,b", "q": "a b"}));
        assert_eq!(e["pathParameters"], json!({"user_id": "u1"}));
        let ctx = &e["requestContext"];
        assert_eq!(ctx["http"]["method"], "GET");
        assert_eq!(ctx["http"]["sourceIp"], "127.0.0.1");
        assert_eq!(ctx["http"]["userAgent"], "curl/8");
        assert_eq!(ctx["stage"], "$default");
        assert_eq!(ctx["domainName"], "127.0.0.1:3000");
        assert_eq!(ctx["authorizer"]["jwt"]["claims"]["sub"], "u1");
        assert_eq!(ctx["authorizer"]["jwt"]["claims"]["exp"], "1");
        assert!(e.get("body").is_none());
    }

    #[test]
    fn iam_routes_carry_the_callers_identity_as_the_runtime_type_reads_it() {
        let mut e = event(None);
        let principal = crate::iam::Principal {
            name: "approval-processor".into(),
            logical_id: "ApprovalProcessorPolicy".into(),
            role_arn: "arn:aws:iam::123456789012:role/approval-processor".into(),
            session_arn: "arn:aws:sts::123456789012:assumed-role/approval-processor/local".into(),
            access_key_id: "AKIAPROCESSOR".into(),
            secret_access_key: "never-shown".into(),
            statements: Vec::new(),
            is_function: false,
        };
        insert_iam_identity(&mut e, crate::http_api::iam_auth::identity(&principal, "123456789012"));
        let iam = &e["requestContext"]["authorizer"]["iam"];
        assert_eq!(iam["userArn"], "arn:aws:sts::123456789012:assumed-role/approval-processor/local");
        assert_eq!(iam["accountId"], "123456789012");
        assert_eq!(iam["accessKey"], "AKIAPROCESSOR");
        let user_id = iam["userId"].as_str().unwrap();
        assert!(user_id.starts_with("AROA") && user_id.ends_with(":local"), "{user_id}");
        assert_eq!(iam["callerId"], iam["userId"]);
        assert!(iam["cognitoIdentity"].is_null() && iam["principalOrgId"].is_null());
        assert!(!e.to_string().contains("never-shown"));
        assert!(e["requestContext"]["authorizer"].get("jwt").is_none());
        let typed: aws_lambda_events::event::apigw::ApiGatewayV2httpRequest = serde_json::from_value(e).expect("shape");
        let iam = typed.request_context.authorizer.and_then(|a| a.iam).expect("iam");
        assert_eq!(iam.user_arn.as_deref(), Some("arn:aws:sts::123456789012:assumed-role/approval-processor/local"));
    }

    #[test]
    fn event_deserialises_as_the_runtime_type() {
        let claims: Map<String, Value> = serde_json::from_value(json!({"sub": "u1"})).expect("claims");
        let typed: aws_lambda_events::event::apigw::ApiGatewayV2httpRequest =
            serde_json::from_value(event(Some(&claims))).expect("shape");
        assert_eq!(typed.raw_path.as_deref(), Some("/users/u1/services"));
        assert_eq!(typed.path_parameters.get("user_id").map(String::as_str), Some("u1"));
    }

    #[test]
    fn responses_map_back_to_http() {
        let r = map_response(json!({
            "statusCode": 201,
            "headers": {"content-type": "application/json", "x-n": 1},
            "cookies": ["a=1", "b=2"],
            "body": "{\"ok\":true}"
        }))
        .expect("response");
        assert_eq!(r.status(), StatusCode::CREATED);
        assert_eq!(r.headers()["x-n"], "1");
        assert_eq!(r.headers().get_all("set-cookie").iter().count(), 2);

        let bare = map_response(json!({"items": []})).expect("bare");
        assert_eq!(bare.status(), StatusCode::OK);
        assert_eq!(bare.headers()["content-type"], "application/json");

        let b64 = map_response(json!({"statusCode": 200, "body": "aGk=", "isBase64Encoded": true}));
        assert!(b64.is_ok());
        assert!(map_response(json!({"statusCode": "nope"})).is_err());
    }
}
