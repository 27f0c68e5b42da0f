//! What every DynamoDB adapter of a workflow's state shares: one error enum with its
//! classification ([`StoreError`]), and conditional writes whose failed condition is
//! an answer, not an error ([`Conditional`], [`ConditionalWrite`]).
//!
//! A step's writes are idempotent because they are conditional: "put the event
//! unless it exists", "move the report forward unless it is already there". On a
//! redelivery the condition fails — the work was already done. That failure must be
//! read as "already done", never classified as an error: retrying cannot make the
//! condition hold again, so the record would be retried until it is dead-lettered
//! as "gave up after n receives". [`ConditionalWrite::conditional`] makes the
//! distinction at the call site:
//!
//! ```no_run
//! use kit::store::{Conditional, ConditionalWrite, StoreError};
//! use aws_sdk_dynamodb::types::AttributeValue;
//!
//! /// Records an order once: `true` if this call wrote it.
//! async fn record(client: &aws_sdk_dynamodb::Client, table: &str, id: &str) -> Result<bool, StoreError> {
//!     let written = client
//!         .put_item()
//!         .table_name(table)
//!         .item("pk", AttributeValue::S(id.to_owned()))
//!         .condition_expression("attribute_not_exists(pk)")
//!         .send()
//!         .await
//!         .conditional("PutItem")?;
//!     Ok(matches!(written, Conditional::Written(_)))
//! }
//! ```

use std::fmt;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

use crate::error::{Classify, ErrorClass};
use crate::sdk::{classify_sdk_error, SdkFailure};

/// DynamoDB's error code for a write whose condition did not hold.
pub const CONDITION_FAILED: &str = "ConditionalCheckFailedException";

/// A store adapter's failure: one enum for every DynamoDB-backed store, so each
/// domain crate re-exports it rather than writing its own.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A DynamoDB call failed; the failure says whether retrying can help.
    #[error("DynamoDB {operation} failed: {failure}")]
    Sdk {
        /// The API operation (`PutItem`, `Query`).
        operation: &'static str,
        /// The classified SDK failure.
        failure: SdkFailure,
    },
    /// A stored item does not read back as the domain type (a bug or a hand edit):
    /// permanent, retrying reads the same item.
    #[error("stored {item} is malformed: {why}")]
    Malformed {
        /// What the item holds (`report`, `contact`, `approval request`).
        item: &'static str,
        /// What is wrong with it (never the item's values).
        why: String,
    },
}

impl StoreError {
    /// A failed SDK call, classified by [`classify_sdk_error`].
    pub fn sdk<E, R>(operation: &'static str, err: &SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: fmt::Debug,
    {
        StoreError::Sdk { operation, failure: classify_sdk_error(err) }
    }

    /// A request the SDK's builder refused (a missing required field): permanent.
    pub fn build(operation: &'static str, err: impl fmt::Display) -> Self {
        StoreError::Sdk { operation, failure: SdkFailure::permanent(err.to_string()) }
    }

    /// A stored `item` that does not read back.
    pub fn malformed(item: &'static str, why: impl Into<String>) -> Self {
        StoreError::Malformed { item, why: why.into() }
    }
}

impl Classify for StoreError {
    fn class(&self) -> ErrorClass {
        match self {
            StoreError::Sdk { failure, .. } => failure.class,
            StoreError::Malformed { .. } => ErrorClass::Permanent,
        }
    }
    fn kind(&self) -> &'static str {
        match self {
            StoreError::Sdk { failure, .. } if failure.is_code(CONDITION_FAILED) => "dynamodb_condition_failed",
            StoreError::Sdk { failure, .. } if failure.class == ErrorClass::Retryable => "dynamodb_unavailable",
            StoreError::Sdk { .. } => "dynamodb_rejected",
            StoreError::Malformed { .. } => "malformed_item",
        }
    }
}

/// [`StoreError::sdk`] as a function, for `map_err(|e| sdk_err("Query", &e))`.
pub fn sdk_err<E, R>(operation: &'static str, err: &SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: fmt::Debug,
{
    StoreError::sdk(operation, err)
}

/// [`StoreError::build`] as a function.
pub fn build_err(operation: &'static str, err: impl fmt::Display) -> StoreError {
    StoreError::build(operation, err)
}

/// Whether a single-item write failed only because its condition did not hold.
/// (A transaction reports its conditions per item, in `TransactionCanceledException`'s
/// cancellation reasons: read those instead.)
pub fn condition_failed<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    err.as_service_error().and_then(|e| e.code()) == Some(CONDITION_FAILED)
}

/// What a conditional write did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conditional<T> {
    /// The condition held and the write happened, with DynamoDB's answer.
    Written(T),
    /// The condition did not hold, so nothing was written. For an idempotent write
    /// (its condition is "not done yet") this means the work was already done: a
    /// redelivery, acknowledged as a duplicate.
    AlreadyDone,
}

impl<T> Conditional<T> {
    /// True if this call wrote.
    pub fn is_written(&self) -> bool {
        matches!(self, Conditional::Written(_))
    }

    /// The step's outcome: [`Outcome::Done`](crate::batch::Outcome::Done) if this call
    /// wrote, [`Outcome::Duplicate`](crate::batch::Outcome::Duplicate) if it was done before.
    pub fn outcome(&self) -> crate::batch::Outcome {
        match self {
            Conditional::Written(_) => crate::batch::Outcome::Done,
            Conditional::AlreadyDone => crate::batch::Outcome::Duplicate,
        }
    }
}

/// Reads a conditional write's result: a failed condition becomes
/// [`Conditional::AlreadyDone`], any other failure a classified [`StoreError`].
pub trait ConditionalWrite<T> {
    /// `operation` names the call in the error (`PutItem`, `UpdateItem`).
    fn conditional(self, operation: &'static str) -> Result<Conditional<T>, StoreError>;
}

impl<T, E, R> ConditionalWrite<T> for Result<T, SdkError<E, R>>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: fmt::Debug,
{
    fn conditional(self, operation: &'static str) -> Result<Conditional<T>, StoreError> {
        match self {
            Ok(answer) => Ok(Conditional::Written(answer)),
            Err(err) if condition_failed(&err) => Ok(Conditional::AlreadyDone),
            Err(err) => Err(StoreError::sdk(operation, &err)),
        }
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_dynamodb::operation::put_item::PutItemError;
    use aws_sdk_dynamodb::types::error::{ConditionalCheckFailedException, ProvisionedThroughputExceededException};

    use super::*;

    /// The raw response is a type parameter: `()` stands in for HTTP here.
    type Response = ();

    fn service_error(err: PutItemError) -> SdkError<PutItemError, Response> {
        SdkError::service_error(err, ())
    }

    fn condition_failure() -> SdkError<PutItemError, Response> {
        // The code is in the error's metadata, as the SDK parses it from DynamoDB's answer.
        let meta = aws_sdk_dynamodb::error::ErrorMetadata::builder().code(CONDITION_FAILED).build();
        let inner =
            ConditionalCheckFailedException::builder().message("The conditional request failed").meta(meta).build();
        service_error(PutItemError::ConditionalCheckFailedException(inner))
    }

    fn throttled() -> SdkError<PutItemError, Response> {
        let meta =
            aws_sdk_dynamodb::error::ErrorMetadata::builder().code("ProvisionedThroughputExceededException").build();
        let inner = ProvisionedThroughputExceededException::builder().message("slow down").meta(meta).build();
        service_error(PutItemError::ProvisionedThroughputExceededException(inner))
    }

    #[test]
    fn a_failed_condition_is_already_done_not_an_error() {
        let answer: Result<(), _> = Err(condition_failure());
        assert_eq!(answer.conditional("PutItem").unwrap(), Conditional::AlreadyDone);
        let answer: Result<u8, SdkError<PutItemError, Response>> = Ok(7);
        let written = answer.conditional("PutItem").unwrap();
        assert_eq!(written, Conditional::Written(7));
        assert_eq!(written.outcome(), crate::batch::Outcome::Done);
        assert_eq!(Conditional::<()>::AlreadyDone.outcome(), crate::batch::Outcome::Duplicate);
    }

    #[test]
    fn other_failures_keep_their_class() {
        let answer: Result<(), _> = Err(throttled());
        let err = answer.conditional("PutItem").unwrap_err();
        assert_eq!((err.class(), err.kind()), (ErrorClass::Retryable, "dynamodb_unavailable"));
        assert!(err.to_string().contains("PutItem"), "{err}");
    }

    #[test]
    fn an_uncaught_failed_condition_is_never_retried_until_it_gives_up() {
        // A conditional write that does not use `conditional` still must not burn
        // every receive: retrying cannot make the condition hold.
        let err = StoreError::sdk("PutItem", &condition_failure());
        assert_eq!(err.class(), ErrorClass::Permanent);
        assert_eq!(err.kind(), "dynamodb_condition_failed");
    }

    #[test]
    fn a_malformed_item_is_permanent_and_names_what_it_holds() {
        let err = StoreError::malformed("report", "no status");
        assert_eq!((err.class(), err.kind()), (ErrorClass::Permanent, "malformed_item"));
        assert_eq!(err.to_string(), "stored report is malformed: no status");
    }
}
