//! Calling the HTTP API's `AWS_IAM` routes as a principal: requests signed with
//! SigV4 for `execute-api` with the principal's local credentials, as the AWS
//! SDKs (and the on-prem processor) sign them. For tests, the bench and the
//! demo; the principals are the template's named principals (e.g.
//! `approval-service`) and the functions.

use std::time::SystemTime;

use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use reqwest::Method;

use crate::http_api::iam_auth::SERVICE;
use crate::LocalStack;

/// Why a signed request could not be made.
#[derive(Debug, thiserror::Error)]
pub enum SigV4ClientError {
    #[error("cannot sign the request: {0}")]
    Signing(String),
    #[error(transparent)]
    Http(#[from] reqwest::Error),
}

/// An HTTP client that signs every request as one principal.
#[derive(Clone)]
pub struct SigV4Client {
    http: reqwest::Client,
    access_key_id: String,
    secret_access_key: String,
    region: String,
}

impl std::fmt::Debug for SigV4Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigV4Client").field("access_key_id", &self.access_key_id).finish_non_exhaustive()
    }
}

impl SigV4Client {
    pub fn new(http: reqwest::Client, access_key_id: &str, secret_access_key: &str, region: &str) -> Self {
        Self {
            http,
            access_key_id: access_key_id.to_owned(),
            secret_access_key: secret_access_key.to_owned(),
            region: region.to_owned(),
        }
    }

    /// Signing as a principal of a running stack (a named principal such as
    /// `approval-service`, or a function name); `None` if the stack has no such
    /// principal (or runs without IAM).
    pub fn as_principal(stack: &LocalStack, name: &str) -> Option<Self> {
        let (key, secret) = stack.principal_credentials(name)?;
        let http = kit::http::client().ok()?;
        Some(Self::new(http, &key, &secret, &stack.context().region))
    }

    /// The same principal with another secret: a request API Gateway must refuse.
    pub fn with_secret(&self, secret_access_key: &str) -> Self {
        Self { secret_access_key: secret_access_key.to_owned(), ..self.clone() }
    }

    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// `method url` with an optional JSON body, signed.
    pub fn signed(
        &self,
        method: Method,
        url: &str,
        json: Option<&serde_json::Value>,
    ) -> Result<reqwest::Request, SigV4ClientError> {
        let body = json.map(serde_json::Value::to_string).unwrap_or_default().into_bytes();
        let signing = |e: &dyn std::fmt::Display| SigV4ClientError::Signing(e.to_string());
        let identity =
            aws_sdk_sqs::config::Credentials::new(&self.access_key_id, &self.secret_access_key, None, None, "local")
                .into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name(SERVICE)
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| signing(&e))?
            .into();
        let headers: Vec<(&str, &str)> =
            if json.is_some() { vec![("content-type", "application/json")] } else { Vec::new() };
        let signable = SignableRequest::new(method.as_str(), url, headers.iter().copied(), SignableBody::Bytes(&body))
            .map_err(|e| signing(&e))?;
        let (instructions, _signature) = sign(signable, &params).map_err(|e| signing(&e))?.into_parts();
        let mut request = self.http.request(method, url);
        for (name, value) in headers.iter().copied().chain(instructions.headers()) {
            request = request.header(name, value);
        }
        if json.is_some() {
            request = request.body(body);
        }
        Ok(request.build()?)
    }

    /// Sends `method url` (with a JSON body if any), signed.
    pub async fn send(
        &self,
        method: Method,
        url: &str,
        json: Option<&serde_json::Value>,
    ) -> Result<reqwest::Response, SigV4ClientError> {
        let request = self.signed(method, url, json)?;
        Ok(self.http.execute(request).await?)
    }

    pub async fn get(&self, url: &str) -> Result<reqwest::Response, SigV4ClientError> {
        self.send(Method::GET, url, None).await
    }

    pub async fn post_json(&self, url: &str, body: &serde_json::Value) -> Result<reqwest::Response, SigV4ClientError> {
        self.send(Method::POST, url, Some(body)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_signed_for_execute_api_in_the_region() {
        let http = reqwest::Client::new();
        let client = SigV4Client::new(http, "AKIAEXAMPLE", "secret", "eu-west-2");
        let body = serde_json::json!({"a": 1});
        let request = client.signed(Method::POST, "http://127.0.0.1:3000/approval-requests", Some(&body)).unwrap();
        let auth = request.headers()["authorization"].to_str().unwrap();
        assert!(auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/"), "{auth}");
        assert!(auth.contains("/eu-west-2/execute-api/aws4_request"), "{auth}");
        assert!(auth.contains("SignedHeaders=content-type;host;x-amz-date"), "{auth}");
        assert_eq!(request.headers()["content-type"], "application/json");
        assert_eq!(request.body().and_then(|b| b.as_bytes()), Some(body.to_string().as_bytes()));
        let get = client.signed(Method::GET, "http://127.0.0.1:3000/approval-requests/r-1", None).unwrap();
        assert!(get.body().is_none());
        assert!(get.headers().contains_key("x-amz-date"));
    }
}
