//! The adapter's reading of DynamoDB's answers, on the SDK's own error types: which
//! cancellation means "duplicate" and which means "retry". (The round trips are
//! covered against the emulator in tests/; SDK mocks would need a second feature set
//! of the whole SDK, see docs/decisions.md.)

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::error::{ProvisionedThroughputExceededException, TransactionCanceledException};
use aws_sdk_dynamodb::types::CancellationReason;

use super::event_already_recorded;

fn cancelled(codes: &[Option<&str>]) -> TransactWriteItemsError {
    let reasons = codes.iter().map(|c| CancellationReason::builder().set_code(c.map(str::to_owned)).build()).collect();
    TransactWriteItemsError::TransactionCanceledException(
        TransactionCanceledException::builder().set_cancellation_reasons(Some(reasons)).message("cancelled").build(),
    )
}

#[test]
fn the_activity_puts_condition_failing_means_already_recorded() {
    assert!(event_already_recorded(&cancelled(&[Some("ConditionalCheckFailed"), None])));
    assert!(event_already_recorded(&cancelled(&[Some("ConditionalCheckFailed"), Some("None")])));
}

#[test]
fn conflicts_throttling_and_other_items_failing_are_not_duplicates() {
    assert!(!event_already_recorded(&cancelled(&[None, Some("TransactionConflict")])));
    assert!(!event_already_recorded(&cancelled(&[Some("TransactionConflict"), Some("TransactionConflict")])));
    assert!(!event_already_recorded(&cancelled(&[Some("None"), Some("ConditionalCheckFailed")])));
    assert!(!event_already_recorded(&cancelled(&[])));
    let throttled = TransactWriteItemsError::ProvisionedThroughputExceededException(
        ProvisionedThroughputExceededException::builder().message("slow down").build(),
    );
    assert!(!event_already_recorded(&throttled));
}
