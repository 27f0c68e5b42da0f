//! The AWS managed policies SAM attaches to function roles, as AWS publishes
//! them (IAM console, "Policy versions", default version). Only these are
//! known locally: a template naming another managed policy is refused at
//! start rather than evaluated as if it granted nothing or everything.

use serde_json::{json, Value};

pub const BASIC_EXECUTION: &str = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole";
pub const SQS_QUEUE_EXECUTION: &str = "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole";

/// The document of a known AWS managed policy, by ARN (any partition).
pub fn document(arn: &str) -> Option<Value> {
    let name = arn.rsplit('/').next()?;
    if !arn.contains(":iam::aws:policy/") {
        return None;
    }
    Some(match name {
        // Version 1 (2015).
        "AWSLambdaBasicExecutionRole" => json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": "*"
        }]}),
        // Version 2 (2017).
        "AWSLambdaSQSQueueExecutionRole" => json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow",
            "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
                       "logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": "*"
        }]}),
        _ => return None,
    })
}
