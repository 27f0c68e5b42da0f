//! SigV4 for the API's `AWS_IAM` routes, with the processor's own AWS credentials
//! (the same ones it reads SQS with: an IAM role via Roles Anywhere, or keys).

use std::time::SystemTime;

use aws_sdk_sqs::config::{ProvideCredentials, SharedCredentialsProvider};
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;

use crate::api::ApiCallError;

pub struct Signer {
    credentials: SharedCredentialsProvider,
    region: String,
}

impl Signer {
    pub fn new(sdk: &aws_config::SdkConfig, region: &str) -> Result<Self, ApiCallError> {
        let credentials = sdk
            .credentials_provider()
            .ok_or_else(|| ApiCallError::Signing("no AWS credentials are configured".into()))?;
        Ok(Self { credentials, region: region.to_owned() })
    }

    /// A JSON POST to `url`, signed for `execute-api`.
    pub async fn signed_post(&self, url: &str, body: Vec<u8>) -> Result<reqwest::Request, ApiCallError> {
        let signing = |e: &dyn std::fmt::Display| ApiCallError::Signing(e.to_string());
        let credentials = self.credentials.provide_credentials().await.map_err(|e| signing(&e))?;
        let identity = credentials.into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name("execute-api")
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| signing(&e))?
            .into();
        let mut request = http::Request::builder()
            .method("POST")
            .uri(url)
            .header("content-type", "application/json")
            .body(body)
            .map_err(|e| signing(&e))?;
        let headers: Vec<(&str, &str)> =
            request.headers().iter().filter_map(|(k, v)| Some((k.as_str(), v.to_str().ok()?))).collect();
        let signable = SignableRequest::new("POST", url, headers.into_iter(), SignableBody::Bytes(request.body()))
            .map_err(|e| signing(&e))?;
        let (instructions, _signature) = sign(signable, &params).map_err(|e| signing(&e))?.into_parts();
        instructions.apply_to_request_http1x(&mut request);
        reqwest::Request::try_from(request).map_err(|e| signing(&e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_signed_request_carries_a_sigv4_authorization_for_execute_api() {
        let sdk = aws_config::SdkConfig::builder()
            .credentials_provider(SharedCredentialsProvider::new(aws_sdk_sqs::config::Credentials::new(
                "AKIDEXAMPLE",
                "secret",
                None,
                None,
                "test",
            )))
            .build();
        let signer = Signer::new(&sdk, "eu-west-2").unwrap();
        let request = signer
            .signed_post(
                "https://abc.execute-api.eu-west-2.amazonaws.com/approval-requests/r1/execution",
                b"{}".to_vec(),
            )
            .await
            .unwrap();
        let auth = request.headers()["authorization"].to_str().unwrap();
        assert!(auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"), "{auth}");
        assert!(auth.contains("/eu-west-2/execute-api/aws4_request"), "{auth}");
        assert!(request.headers().contains_key("x-amz-date"));
    }
}
