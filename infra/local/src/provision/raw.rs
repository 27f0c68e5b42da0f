//! S3 buckets, SES identities and Secrets Manager secrets through plain HTTP
//! calls to the emulator.
//!
//! Linking `aws-sdk-s3`, `aws-sdk-ses` and `aws-sdk-secretsmanager` only to
//! create a bucket, verify an address and store a secret would add minutes to every cold build on a 2-core machine. The
//! emulator does not check signatures; it only reads the service and region
//! from the credential scope of the `Authorization` header, so an unsigned
//! request with that scope is enough.

use reqwest::StatusCode;
use serde_json::Value;

use super::{generated_name, PhysicalResource, ProvisionError};
use crate::template::{types, ResourceFacts, StackContext};

pub struct RawAws {
    http: reqwest::Client,
    endpoint: String,
    region: String,
}

impl RawAws {
    pub fn new(endpoint: &str, region: &str) -> Result<Self, ProvisionError> {
        Ok(Self {
            http: kit::http::client().map_err(ProvisionError::HttpClient)?,
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            region: region.to_owned(),
        })
    }

    fn scope(&self, service: &str) -> String {
        let date = chrono::Utc::now().format("%Y%m%d");
        format!(
            "AWS4-HMAC-SHA256 Credential=test/{date}/{}/{service}/aws4_request, SignedHeaders=host, Signature=0",
            self.region
        )
    }

    /// A JSON-protocol call (`X-Amz-Target: {target}`): the status and body text.
    pub async fn json_call(
        &self,
        service: &str,
        target: &str,
        body: &Value,
    ) -> Result<(StatusCode, String), reqwest::Error> {
        let response = self
            .http
            .post(format!("{}/", self.endpoint))
            .header("authorization", self.scope(service))
            .header("x-amz-target", target)
            .header("content-type", "application/x-amz-json-1.1")
            .body(body.to_string())
            .send()
            .await?;
        let status = response.status();
        Ok((status, response.text().await.unwrap_or_default()))
    }

    /// CreateBucket; "already owned by you" counts as success.
    pub async fn ensure_bucket(
        &self,
        id: &str,
        props: &Value,
        ctx: &StackContext,
    ) -> Result<PhysicalResource, ProvisionError> {
        let name = props
            .get("BucketName")
            .and_then(Value::as_str)
            .map_or_else(|| generated_name(ctx, id).to_ascii_lowercase(), str::to_owned);
        let body = if self.region == "us-east-1" {
            String::new()
        } else {
            format!(
                "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>{}</LocationConstraint></CreateBucketConfiguration>",
                self.region
            )
        };
        let response = self
            .http
            .put(format!("{}/{name}", self.endpoint))
            .header("authorization", self.scope("s3"))
            .header("content-type", "application/xml")
            .body(body)
            .send()
            .await
            .map_err(ProvisionError::aws(id, "CreateBucket"))?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        let owned = status == StatusCode::CONFLICT && text.contains("BucketAlreadyOwnedByYou");
        if !status.is_success() && !owned {
            return Err(ProvisionError::invalid(id, format!("CreateBucket answered {status}: {text}")));
        }
        let arn = format!("arn:{}:s3:::{name}", ctx.partition);
        Ok(PhysicalResource {
            logical_id: id.to_owned(),
            kind: types::S3_BUCKET.to_owned(),
            facts: ResourceFacts {
                reference: name.clone(),
                attributes: [
                    ("Arn".to_owned(), arn.clone()),
                    ("DomainName".to_owned(), format!("{name}.s3.{}", ctx.url_suffix)),
                    ("RegionalDomainName".to_owned(), format!("{name}.s3.{}.{}", ctx.region, ctx.url_suffix)),
                ]
                .into(),
            },
            name,
            arn: Some(arn),
            url: None,
            stream_arn: None,
        })
    }

    /// SES v1 VerifyEmailIdentity / VerifyDomainIdentity: the emulator marks
    /// the identity verified at once, so functions can send from it.
    pub async fn ensure_email_identity(&self, id: &str, props: &Value) -> Result<PhysicalResource, ProvisionError> {
        let identity = props
            .get("EmailIdentity")
            .and_then(Value::as_str)
            .ok_or_else(|| ProvisionError::invalid(id, "EmailIdentity is required"))?
            .to_owned();
        let (action, field) = if identity.contains('@') {
            ("VerifyEmailIdentity", "EmailAddress")
        } else {
            ("VerifyDomainIdentity", "Domain")
        };
        let form = [("Action", action), ("Version", "2010-12-01"), (field, identity.as_str())];
        let body: String = form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        let response = self
            .http
            .post(format!("{}/", self.endpoint))
            .header("authorization", self.scope("ses"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(ProvisionError::aws(id, action))?;
        let status = response.status();
        if !status.is_success() {
            let text = response.text().await.unwrap_or_default();
            return Err(ProvisionError::invalid(id, format!("{action} answered {status}: {text}")));
        }
        Ok(PhysicalResource {
            logical_id: id.to_owned(),
            kind: types::SES_EMAIL_IDENTITY.to_owned(),
            facts: ResourceFacts { reference: identity.clone(), attributes: Default::default() },
            name: identity,
            arn: None,
            url: None,
            stream_arn: None,
        })
    }
}
