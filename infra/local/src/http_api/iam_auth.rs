//! `AWS_IAM` routes, authorised as API Gateway does: the request must carry a
//! SigV4 signature for `execute-api` by a principal the local stack knows (its
//! functions and the template's named principals), and that principal's
//! identity policy must allow `execute-api:Invoke` on the route's ARN,
//! `arn:aws:execute-api:{region}:{account}:{api id}/$default/{METHOD}/{path}`.
//! Refusals are 403s with API Gateway's bodies; on success the event's
//! `requestContext.authorizer.iam` names the caller as API Gateway does for an
//! assumed role.

use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use tracing::debug;

use crate::iam::sigv4::{self, Received, SigV4Error};
use crate::iam::{Authorizer, Check, Principal};

/// An HTTP API's default stage: the stage in its execute-api ARNs.
pub const STAGE: &str = "$default";
/// The service SigV4 signatures for API Gateway are scoped to.
pub const SERVICE: &str = "execute-api";
/// What the caller's policy must allow.
pub const ACTION: &str = "execute-api:Invoke";

/// The API a request reached, for its execute-api ARNs.
#[derive(Debug, Clone, Copy)]
pub struct ApiTarget<'a> {
    pub region: &'a str,
    pub account: &'a str,
    /// What `!Ref` of the `AWS::Serverless::HttpApi` resolves to.
    pub api_id: &'a str,
}

impl ApiTarget<'_> {
    /// The ARN IAM checks a request against: the request's own method and
    /// path (not the route template), without the path's leading slash.
    pub fn route_arn(&self, method: &str, raw_path: &str) -> String {
        format!(
            "arn:aws:execute-api:{}:{}:{}/{STAGE}/{method}/{}",
            self.region,
            self.account,
            self.api_id,
            raw_path.trim_start_matches('/')
        )
    }
}

/// API Gateway's answer to a request it did not authorise: always a 403.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IamRefusal {
    /// `x-amzn-ErrorType`.
    pub error_type: &'static str,
    pub body: Value,
}

impl IamRefusal {
    fn message(error_type: &'static str, text: &str) -> Self {
        Self { error_type, body: json!({ "message": text }) }
    }

    /// The text of the body, whichever key holds it.
    pub fn text(&self) -> &str {
        self.body.get("message").or_else(|| self.body.get("Message")).and_then(Value::as_str).unwrap_or_default()
    }
}

impl IntoResponse for IamRefusal {
    fn into_response(self) -> Response {
        let mut response = (StatusCode::FORBIDDEN, Json(self.body)).into_response();
        response.headers_mut().insert("x-amzn-errortype", HeaderValue::from_static(self.error_type));
        response
    }
}

/// Authorises one request to an `AWS_IAM` route; the `authorizer.iam` object of
/// the event when allowed. `authorizer` is `None` when the local stack runs
/// without IAM (no AWS proxy): every request is refused.
pub fn authorize(
    authorizer: Option<&Authorizer>,
    parts: &Parts,
    body: &[u8],
    api: &ApiTarget<'_>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Value, IamRefusal> {
    let Some(authorizer) = authorizer else {
        debug!("an AWS_IAM route refused: this local stack runs without IAM (no AWS proxy)");
        return Err(IamRefusal::message("ForbiddenException", "Forbidden"));
    };
    let received = Received {
        method: &parts.method,
        path: parts.uri.path(),
        query: parts.uri.query(),
        headers: &parts.headers,
        body,
    };
    let signed = sigv4::verify(&received, now, |key| authorizer.principal(key).map(|p| p.secret_access_key.clone()))
        .map_err(signature_refusal)?;
    if signed.service != SERVICE {
        let text = format!("Credential should be scoped to correct service: '{SERVICE}'. ");
        return Err(IamRefusal::message("InvalidSignatureException", &text));
    }
    if signed.region != api.region {
        let text = format!("Credential should be scoped to a valid region, not '{}'. ", signed.region);
        return Err(IamRefusal::message("InvalidSignatureException", &text));
    }
    let Some(principal) = authorizer.principal(&signed.access_key_id) else {
        return Err(signature_refusal(SigV4Error::UnknownKey));
    };
    let resource = api.route_arn(parts.method.as_str(), parts.uri.path());
    let check = Check::new(ACTION, resource.as_str());
    let decision = authorizer.decide(principal, &check);
    if !decision.allowed() {
        tracing::warn!(principal = %principal.name, action = ACTION, %resource, "API Gateway (IAM) refused a request");
        let text = format!(
            "User: {} is not authorized to perform: {ACTION} on resource: {resource} {}",
            principal.session_arn,
            decision.reason(ACTION)
        );
        // This refusal, unlike the others, says `Message`.
        return Err(IamRefusal { error_type: "AccessDeniedException", body: json!({ "Message": text }) });
    }
    Ok(identity(principal, api.account))
}

fn signature_refusal(error: SigV4Error) -> IamRefusal {
    match error {
        // An HTTP API answers an unsigned request to an IAM route with a bare "Forbidden".
        SigV4Error::Missing => IamRefusal::message("ForbiddenException", "Forbidden"),
        SigV4Error::Malformed(_) => IamRefusal::message("IncompleteSignatureException", &error.to_string()),
        SigV4Error::UnknownKey => IamRefusal::message("UnrecognizedClientException", &error.to_string()),
        SigV4Error::Expired(_) => IamRefusal::message("InvalidSignatureException", &error.to_string()),
        SigV4Error::Mismatch => IamRefusal::message(
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
        ),
    }
}

/// What API Gateway puts in `requestContext.authorizer.iam` for a role
/// session: `callerId` and `userId` are `{role id}:{session name}`, `userArn`
/// the session's ARN.
pub fn identity(principal: &Principal, account: &str) -> Value {
    let session = principal.session_arn.rsplit('/').next().unwrap_or_default();
    let user_id = format!("{}:{session}", role_id(&principal.role_arn));
    json!({
        "accessKey": principal.access_key_id,
        "accountId": account,
        "callerId": user_id,
        "cognitoIdentity": null,
        "principalOrgId": null,
        "userArn": principal.session_arn,
        "userId": user_id,
    })
}

/// A role's unique id as IAM shows it (`AROA` and 17 characters), stable for
/// its ARN.
pub fn role_id(role_arn: &str) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    // FNV-1a, 64 bits, as the principals' access keys.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in role_arn.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    let mut id = String::from("AROA");
    for i in 0..17u32 {
        // 17 × 5 bits from a 64-bit hash: the last few wrap around.
        let index = (hash.rotate_right(i * 5) & 31) as usize;
        id.push(char::from(ALPHABET[index]));
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iam::policy::parse_document;
    use crate::iam::Catalog;
    use crate::SigV4Client;

    const API: ApiTarget<'static> = ApiTarget { region: "eu-west-2", account: "123456789012", api_id: "local" };

    fn principal(name: &str, resource: Option<&str>) -> Principal {
        let role_arn = format!("arn:aws:iam::123456789012:role/{name}");
        let document = match resource {
            Some(r) => json!({"Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": r}]}),
            None => json!({"Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}]}),
        };
        Principal {
            name: name.to_owned(),
            logical_id: name.to_owned(),
            session_arn: crate::iam::principals::session_arn(&role_arn, "local"),
            role_arn,
            access_key_id: crate::iam::principals::access_key_id(name),
            secret_access_key: format!("{name}-secret"),
            statements: parse_document(name, &document).unwrap(),
            is_function: false,
        }
    }

    fn authorizer() -> Authorizer {
        let processor = principal(
            "approval-processor",
            Some("arn:aws:execute-api:eu-west-2:123456789012:local/*/POST/approval-requests/*/execution"),
        );
        Authorizer::new(
            vec![processor, principal("some-function", None)],
            Catalog::default(),
            "eu-west-2",
            "123456789012",
            "http://127.0.0.1:1",
        )
        .unwrap()
    }

    /// The parts and body of a request `client` signed.
    fn signed(client: &SigV4Client, method: &str, path: &str, body: Option<Value>) -> (Parts, Vec<u8>) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let request = client.signed(method, &format!("http://127.0.0.1:3000{path}"), body.as_ref()).unwrap();
        let bytes = request.body().and_then(|b| b.as_bytes()).unwrap_or_default().to_vec();
        let mut builder = axum::http::Request::builder().method(request.method().as_str()).uri(path);
        builder = builder.header("host", "127.0.0.1:3000");
        for (name, value) in request.headers() {
            builder = builder.header(name.as_str(), value.as_bytes());
        }
        (builder.body(()).unwrap().into_parts().0, bytes)
    }

    fn client(authorizer: &Authorizer, name: &str) -> SigV4Client {
        let p = authorizer.principal_named(name).unwrap();
        SigV4Client::new(reqwest::Client::new(), &p.access_key_id, &p.secret_access_key, "eu-west-2")
    }

    fn check(authorizer: Option<&Authorizer>, (parts, body): (Parts, Vec<u8>)) -> Result<Value, IamRefusal> {
        authorize(authorizer, &parts, &body, &API, chrono::Utc::now())
    }

    #[test]
    fn a_signed_request_the_policy_allows_gets_the_callers_identity() {
        let a = authorizer();
        let processor = client(&a, "approval-processor");
        let request =
            signed(&processor, "POST", "/approval-requests/r-1/execution", Some(json!({"state": "EXECUTED"})));
        let identity = check(Some(&a), request).unwrap();
        assert_eq!(identity["userArn"], "arn:aws:sts::123456789012:assumed-role/approval-processor/local");
        assert_eq!(identity["accessKey"], processor.access_key_id());
    }

    #[test]
    fn unsigned_wrong_secret_and_unknown_keys_are_refused() {
        let a = authorizer();
        let processor = client(&a, "approval-processor");
        let path = "/approval-requests/r-1/execution";
        let (mut parts, body) = signed(&processor, "POST", path, Some(json!({})));
        parts.headers.remove("authorization");
        let refusal = check(Some(&a), (parts, body)).unwrap_err();
        assert_eq!(refusal.body, json!({"message": "Forbidden"}));

        let wrong = processor.with_secret("not-the-secret");
        let refusal = check(Some(&a), signed(&wrong, "POST", path, Some(json!({})))).unwrap_err();
        assert!(refusal.text().starts_with("The request signature we calculated does not match"), "{refusal:?}");
        assert_eq!(refusal.error_type, "InvalidSignatureException");

        let stranger = SigV4Client::new(reqwest::Client::new(), "AKIASTRANGER", "s", "eu-west-2");
        let refusal = check(Some(&a), signed(&stranger, "POST", path, Some(json!({})))).unwrap_err();
        assert_eq!(refusal.text(), "The security token included in the request is invalid.");

        let (mut parts, body) = signed(&processor, "POST", path, Some(json!({})));
        parts.headers.insert("authorization", HeaderValue::from_static("Bearer a.b.c"));
        let refusal = check(Some(&a), (parts, body)).unwrap_err();
        assert_eq!(refusal.error_type, "IncompleteSignatureException");
        assert!(!refusal.text().contains("a.b.c"), "the token is not echoed: {refusal:?}");

        let refusal = check(None, signed(&processor, "POST", path, Some(json!({})))).unwrap_err();
        assert_eq!(refusal.body, json!({"message": "Forbidden"}), "no IAM locally: nobody gets in");
    }

    #[test]
    fn a_tampered_body_is_refused() {
        let a = authorizer();
        let processor = client(&a, "approval-processor");
        let (parts, _) =
            signed(&processor, "POST", "/approval-requests/r-1/execution", Some(json!({"state": "FAILED"})));
        let refusal = check(Some(&a), (parts, br#"{"state":"EXECUTED"}"#.to_vec())).unwrap_err();
        assert_eq!(refusal.error_type, "InvalidSignatureException");
    }

    #[test]
    fn a_principal_whose_policy_does_not_allow_the_route_is_told_which_action_and_resource() {
        let a = authorizer();
        let refusal = check(Some(&a), signed(&client(&a, "approval-processor"), "GET", "/approval-requests/r-1", None))
            .unwrap_err();
        assert_eq!(refusal.error_type, "AccessDeniedException");
        assert_eq!(
            refusal.body,
            json!({"Message": "User: arn:aws:sts::123456789012:assumed-role/approval-processor/local is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:eu-west-2:123456789012:local/$default/GET/approval-requests/r-1 because no identity-based policy allows the execute-api:Invoke action"})
        );
        let refusal = check(
            Some(&a),
            signed(&client(&a, "some-function"), "POST", "/approval-requests/r-1/execution", Some(json!({}))),
        )
        .unwrap_err();
        assert!(refusal.text().contains("assumed-role/some-function/local is not authorized"), "{refusal:?}");
    }

    #[test]
    fn a_signature_for_another_service_or_region_is_refused() {
        let a = authorizer();
        let p = a.principal_named("approval-processor").unwrap();
        let elsewhere = SigV4Client::new(reqwest::Client::new(), &p.access_key_id, &p.secret_access_key, "us-east-1");
        let refusal = check(Some(&a), signed(&elsewhere, "POST", "/approval-requests/r-1/execution", Some(json!({}))))
            .unwrap_err();
        assert!(refusal.text().contains("valid region"), "{refusal:?}");
    }

    #[test]
    fn the_route_arn_is_the_requests_method_and_path_on_the_default_stage() {
        let api = ApiTarget { region: "eu-west-2", account: "123456789012", api_id: "local" };
        assert_eq!(
            api.route_arn("POST", "/approval-requests/r-1/execution"),
            "arn:aws:execute-api:eu-west-2:123456789012:local/$default/POST/approval-requests/r-1/execution"
        );
    }

    #[test]
    fn role_ids_look_like_iams_and_are_stable() {
        let id = role_id("arn:aws:iam::123456789012:role/approval-processor");
        assert_eq!(id.len(), 21);
        assert!(id.starts_with("AROA"));
        assert!(id.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()), "{id}");
        assert_eq!(id, role_id("arn:aws:iam::123456789012:role/approval-processor"));
        assert_ne!(id, role_id("arn:aws:iam::123456789012:role/approval-service"));
    }

    #[test]
    fn refusals_are_403s_with_api_gateways_error_type() {
        let refusal = signature_refusal(SigV4Error::Missing);
        assert_eq!(refusal.body, json!({"message": "Forbidden"}));
        assert!(signature_refusal(SigV4Error::Mismatch).text().starts_with("The request signature we calculated"));
        let response = refusal.into_response();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert_eq!(response.headers()["x-amzn-errortype"], "ForbiddenException");
    }
}
