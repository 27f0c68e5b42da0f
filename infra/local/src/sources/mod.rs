//! Event sources: SQS pollers and schedules, as the Lambda service runs them.

pub mod cron;
pub mod schedule;
pub mod sqs;
pub mod sqs_event;

pub use cron::{ScheduleError, ScheduleExpression};
pub use schedule::{scheduled_event, ScheduleRunner};
pub use sqs::SqsPoller;
pub use sqs_event::{reported_failures, sqs_event, MessageAttribute, ReceivedMessage};
