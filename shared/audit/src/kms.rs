//! The trail's signing key on AWS KMS (key spec `ECC_NIST_P256`, usage
//! `SIGN_VERIFY`): `Sign` for the audit step, `GetPublicKey` for verifiers.

use async_trait::async_trait;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{MessageType, SigningAlgorithmSpec};
use kit::sdk::classify_sdk_error;
use tokio::sync::OnceCell;

use crate::ports::{RecordSigner, SigningError, TrustedKeySource};
use crate::signing::{signing_input, RecordSignature, TrustedKey};

/// Signs with the key only `create-audit-record` may sign with (its key policy).
pub struct KmsSigner {
    client: aws_sdk_kms::Client,
    key_id: String,
}

impl KmsSigner {
    pub fn new(client: aws_sdk_kms::Client, key_id: impl Into<String>) -> Self {
        Self { client, key_id: key_id.into() }
    }
}

#[async_trait]
impl RecordSigner for KmsSigner {
    async fn sign(&self, record_hash: &str) -> Result<RecordSignature, SigningError> {
        let out = self
            .client
            .sign()
            .key_id(&self.key_id)
            .message(Blob::new(signing_input(record_hash)))
            // RAW: KMS hashes the message with SHA-256, as the verifier does.
            .message_type(MessageType::Raw)
            .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
            .send()
            .await
            .map_err(|e| SigningError::Kms { operation: "Sign", failure: classify_sdk_error(&e) })?;
        let signature = out.signature.ok_or_else(|| SigningError::Kms {
            operation: "Sign",
            failure: kit::sdk::SdkFailure::permanent("the answer has no signature"),
        })?;
        // KMS names the key by its ARN, whatever id it was called with.
        let arn = out.key_id.unwrap_or_else(|| self.key_id.clone());
        Ok(RecordSignature::new(arn, signature.as_ref()))
    }
}

/// The trail's public key, read once per process (it never changes for a key).
pub struct KmsTrustedKey {
    client: aws_sdk_kms::Client,
    key_id: String,
    cached: OnceCell<TrustedKey>,
}

impl KmsTrustedKey {
    /// `key_id`: the key's ARN, id or alias.
    pub fn new(client: aws_sdk_kms::Client, key_id: impl Into<String>) -> Self {
        Self { client, key_id: key_id.into(), cached: OnceCell::new() }
    }
}

#[async_trait]
impl TrustedKeySource for KmsTrustedKey {
    async fn trusted_key(&self) -> Result<TrustedKey, SigningError> {
        let key =
            self.cached
                .get_or_try_init(|| async {
                    let out = self.client.get_public_key().key_id(&self.key_id).send().await.map_err(|e| {
                        SigningError::Kms { operation: "GetPublicKey", failure: classify_sdk_error(&e) }
                    })?;
                    let der = out.public_key.map(Blob::into_inner).unwrap_or_default();
                    let arn = out.key_id.unwrap_or_else(|| self.key_id.clone());
                    Ok::<_, SigningError>(TrustedKey::from_der(arn, &der)?)
                })
                .await?;
        Ok(key.clone())
    }
}
