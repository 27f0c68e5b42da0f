//! Signatures over audit records: what makes the trail tamper-evident against
//! someone who can write the audit table.
//!
//! The hash chain alone is unkeyed: anyone who can write the table can rewrite
//! a record and recompute every hash after it. So each record's hash (which
//! covers its content and, through `prev_hash`, every record before it) is
//! signed with an asymmetric KMS key that only `create-audit-record` may use
//! for signing (the key policy says so). Verifiers hold only the public key:
//! checking a trail needs no permission that could also forge one.
//!
//! The message signed is [`signing_input`] (a fixed prefix, then the record's
//! hash), signed as a RAW message with `ECDSA_SHA_256`: KMS hashes it once more
//! with SHA-256, which is what [`TrustedKey::verifies`] checks.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use p256::ecdsa::signature::Verifier as _;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::pkcs8::DecodePublicKey as _;

/// KMS's name for the algorithm (key spec `ECC_NIST_P256`).
pub const SIGNING_ALGORITHM: &str = "ECDSA_SHA_256";

/// Domain separation: a signature over an audit record's hash can never be
/// mistaken for (or replayed as) a signature over anything else.
const PREFIX: &str = "audit-record/v1/";

/// The bytes signed for a record whose hash is `record_hash` (hex).
pub fn signing_input(record_hash: &str) -> Vec<u8> {
    format!("{PREFIX}{record_hash}").into_bytes()
}

/// A signature as stored on the record: the signing key's ARN and the DER
/// signature in base64.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordSignature {
    pub key_arn: String,
    pub signature_b64: String,
}

impl RecordSignature {
    pub fn new(key_arn: impl Into<String>, der: &[u8]) -> Self {
        Self { key_arn: key_arn.into(), signature_b64: B64.encode(der) }
    }
}

/// The trail's public key, as KMS `GetPublicKey` returns it (its ARN and the
/// DER `SubjectPublicKeyInfo`).
#[derive(Clone, Debug)]
pub struct TrustedKey {
    arn: String,
    key: VerifyingKey,
}

/// Why a public key could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the audit signing key {arn} is not a P-256 public key: {reason}")]
pub struct BadPublicKey {
    pub arn: String,
    pub reason: String,
}

impl TrustedKey {
    pub fn from_der(arn: impl Into<String>, der: &[u8]) -> Result<Self, BadPublicKey> {
        let arn = arn.into();
        let key = VerifyingKey::from_public_key_der(der)
            .map_err(|e| BadPublicKey { arn: arn.clone(), reason: e.to_string() })?;
        Ok(Self { arn, key })
    }

    pub fn arn(&self) -> &str {
        &self.arn
    }

    /// Why `signature` (as stored) is not this key's signature over the record
    /// hashed `record_hash`; `None` if it is.
    pub fn problem(&self, record_hash: &str, key_arn: &str, signature_b64: &str) -> Option<&'static str> {
        if signature_b64.is_empty() {
            return Some("it is not signed");
        }
        if key_arn != self.arn {
            return Some("it is signed with a key that is not the trail's");
        }
        let Ok(der) = B64.decode(signature_b64) else { return Some("its signature is not base64") };
        let Ok(signature) = Signature::from_der(&der) else {
            return Some("its signature is not a DER ECDSA signature");
        };
        match self.key.verify(&signing_input(record_hash), &signature) {
            Ok(()) => None,
            Err(_) => Some("its signature does not verify with the trail's public key"),
        }
    }
}

#[cfg(any(test, feature = "testing"))]
pub mod test_key {
    //! A local P-256 key standing in for KMS in unit tests.

    use p256::ecdsa::signature::Signer as _;
    use p256::ecdsa::{DerSignature, SigningKey};

    use super::{signing_input, RecordSignature, TrustedKey};

    pub const TEST_KEY_ARN: &str = "arn:aws:kms:eu-west-2:123456789012:key/test-audit-signing";

    /// [`signing_key`]'s public key as KMS `GetPublicKey` returns it (DER
    /// `SubjectPublicKeyInfo`), computed independently (Python `cryptography`).
    pub const PUBLIC_KEY_DER_HEX: &str = "3059301306072a8648ce3d020106082a8648ce3d030107034200041e18532fd4754c02f3041d9c75ceb33b83ffd81ac7ce4fe882ccb1c98bc5896ea46c311c4e2ff40dd96a3653e6e45445d32dfe486eced75c7a90c6a18881c0a3";

    /// A fixed key, so tests are reproducible.
    pub fn signing_key() -> SigningKey {
        SigningKey::from_bytes(&[7u8; 32].into()).expect("a valid scalar")
    }

    pub fn sign(record_hash: &str) -> RecordSignature {
        sign_with(&signing_key(), TEST_KEY_ARN, record_hash)
    }

    pub fn sign_with(key: &SigningKey, arn: &str, record_hash: &str) -> RecordSignature {
        let signature: DerSignature = key.sign(&signing_input(record_hash));
        RecordSignature::new(arn, signature.as_bytes())
    }

    pub fn trusted() -> TrustedKey {
        let der = hex::decode(PUBLIC_KEY_DER_HEX).expect("hex");
        TrustedKey::from_der(TEST_KEY_ARN, &der).expect("the test key")
    }
}

#[cfg(test)]
mod tests {
    use super::test_key::*;
    use super::*;
    use p256::ecdsa::SigningKey;

    const HASH: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    #[test]
    fn the_trails_signature_verifies_and_nothing_else_does() {
        let key = trusted();
        let s = sign(HASH);
        assert_eq!(key.problem(HASH, &s.key_arn, &s.signature_b64), None);
        let other_hash = HASH.replace('9', "8");
        assert!(key.problem(&other_hash, &s.key_arn, &s.signature_b64).is_some(), "bound to the hash");
        assert_eq!(key.problem(HASH, &s.key_arn, ""), Some("it is not signed"));
        assert_eq!(
            key.problem(HASH, "arn:other", &s.signature_b64),
            Some("it is signed with a key that is not the trail's")
        );
        let forger = SigningKey::from_bytes(&[9u8; 32].into()).unwrap();
        let forged = sign_with(&forger, TEST_KEY_ARN, HASH);
        assert_eq!(
            key.problem(HASH, &forged.key_arn, &forged.signature_b64),
            Some("its signature does not verify with the trail's public key")
        );
        assert_eq!(key.problem(HASH, TEST_KEY_ARN, "%%"), Some("its signature is not base64"));
    }

    #[test]
    fn a_key_that_is_not_p256_is_refused() {
        assert!(TrustedKey::from_der("arn:k", b"not DER").is_err());
    }
}
