//! Classifying AWS SDK errors once, for every adapter.

use std::fmt;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

use crate::error::ErrorClass;

/// An SDK failure reduced to what callers act on: retryable or not, plus the AWS
/// error code and message (never the request, which may hold personal data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdkFailure {
    /// Whether retrying can help.
    pub class: ErrorClass,
    /// AWS's error code, when the service answered.
    pub code: Option<String>,
    /// AWS's message.
    pub message: String,
}

impl SdkFailure {
    /// A failure retrying cannot fix.
    pub fn permanent(message: impl Into<String>) -> Self {
        Self { class: ErrorClass::Permanent, code: None, message: message.into() }
    }
    /// A failure worth retrying.
    pub fn retryable(message: impl Into<String>) -> Self {
        Self { class: ErrorClass::Retryable, code: None, message: message.into() }
    }
    /// Whether AWS answered with `code`.
    pub fn is_code(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }
}

impl fmt::Display for SdkFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.code {
            Some(code) => write!(f, "{code}: {} ({})", self.message, self.class),
            None => write!(f, "{} ({})", self.message, self.class),
        }
    }
}

/// Error codes that mean "this request can never succeed as sent".
const PERMANENT_CODES: &[&str] = &[
    "ValidationException",
    "InvalidParameterValue",
    "InvalidParameterException",
    "SerializationException",
    "AccessDeniedException",
    "AccessDenied",
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "MissingParameter",
    "InvalidAttributeValue",
    "InvalidMessageContents",
    // Refusals by IAM and KMS, as each service words them: no retry grants a permission.
    "AuthorizationError",
    "ForbiddenException",
    "InvalidClientTokenId",
    "KMSAccessDenied",
    "KmsAccessDenied",
    "KMS.AccessDeniedException",
    // Requests over a service quota (message size, batch entries): the same request fails again.
    "InvalidParameter",
    "TooManyEntriesInBatchRequest",
    "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
    "BatchRequestTooLong",
    "AWS.SimpleQueueService.BatchRequestTooLong",
    "EmptyBatchRequest",
    "AWS.SimpleQueueService.EmptyBatchRequest",
    "BatchEntryIdsNotDistinct",
    "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
    "BadRequestException",
];

/// Whether an AWS error code means the request can never succeed as sent.
pub fn is_permanent_code(code: &str) -> bool {
    PERMANENT_CODES.contains(&code)
}

/// Any SDK error (all service crates share the smithy `SdkError`).
pub fn classify_sdk_error<E, R>(err: &SdkError<E, R>) -> SdkFailure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: fmt::Debug,
{
    match err {
        SdkError::ServiceError(service) => {
            let inner = service.err();
            let code = inner.code().map(str::to_owned);
            let message = inner.message().unwrap_or("no message").to_owned();
            // Throttling, 5xx, conflicts and even resource-not-found (a deployment fault,
            // not the record's) are worth retrying; the redrive policy bounds the cost.
            // A failed condition is not: the item says the same on every retry, so a
            // write that did not read it as "already done" (`crate::store::Conditional`)
            // goes to the DLQ at once, under its own kind, instead of burning every receive.
            let class = match code.as_deref() {
                Some(c) if is_permanent_code(c) || c == crate::store::CONDITION_FAILED => ErrorClass::Permanent,
                _ => ErrorClass::Retryable,
            };
            SdkFailure { class, code, message }
        }
        // Timeouts, dispatch and response failures are the network's, not the record's.
        SdkError::TimeoutError(_) => SdkFailure::retryable("request timed out"),
        SdkError::DispatchFailure(_) => SdkFailure::retryable("could not reach the service"),
        SdkError::ResponseError(_) => SdkFailure::retryable("unreadable response"),
        SdkError::ConstructionFailure(_) => SdkFailure::permanent("request could not be built"),
        _ => SdkFailure::retryable(format!("{err}")),
    }
}

mod http_client;

pub use http_client::http_client;

/// The shared AWS configuration: region, credentials and endpoint come from the
/// standard sources (`AWS_REGION`, `AWS_ENDPOINT_URL`, profiles, the Lambda role).
/// Its HTTP client is the SDK's own, with the TLS set-up left to the first request
/// ([`http_client`]).
pub async fn aws_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(http_client()).load().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_condition_is_permanent_not_retried_until_the_receives_run_out() {
        use aws_sdk_dynamodb::operation::put_item::PutItemError;
        use aws_sdk_dynamodb::types::error::ConditionalCheckFailedException;
        let meta = aws_sdk_dynamodb::error::ErrorMetadata::builder().code("ConditionalCheckFailedException").build();
        let inner =
            ConditionalCheckFailedException::builder().message("The conditional request failed").meta(meta).build();
        let err: SdkError<PutItemError, ()> =
            SdkError::service_error(PutItemError::ConditionalCheckFailedException(inner), ());
        let failure = classify_sdk_error(&err);
        assert_eq!(failure.class, ErrorClass::Permanent);
        assert!(failure.is_code("ConditionalCheckFailedException"), "{failure}");
    }

    #[test]
    fn refusals_by_iam_kms_and_quotas_are_permanent_in_every_services_words() {
        for code in [
            "AccessDeniedException",
            "AccessDenied",
            "AuthorizationError",
            "ForbiddenException",
            "UnrecognizedClientException",
            "InvalidClientTokenId",
            "KMSAccessDenied",
            "KMS.AccessDeniedException",
            "InvalidParameter",
            "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
            "AWS.SimpleQueueService.BatchRequestTooLong",
            "ValidationException",
            "BadRequestException",
        ] {
            assert!(is_permanent_code(code), "{code}");
        }
        for code in [
            "ThrottlingException",
            "ProvisionedThroughputExceededException",
            "InternalServerError",
            "ServiceUnavailable",
        ] {
            assert!(!is_permanent_code(code), "{code}");
        }
    }
}
