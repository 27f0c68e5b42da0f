//! AWS list prices and the capacity each counted request consumes: turns requests
//! per workflow into dollars per 1,000 workflows.
//!
//! Prices: us-east-1 on-demand list prices (2025), free tiers ignored. eu-west-2
//! is a few percent dearer for DynamoDB and Lambda; the comparison with Step
//! Functions holds in either region.

use std::collections::BTreeMap;

pub const SQS_PER_MILLION: f64 = 0.40;
pub const SNS_PUBLISH_PER_MILLION: f64 = 0.50;
pub const DYNAMODB_WRU_PER_MILLION: f64 = 0.625;
pub const DYNAMODB_RRU_PER_MILLION: f64 = 0.125;
pub const SECRETS_PER_10K: f64 = 0.05;
pub const LAMBDA_REQUESTS_PER_MILLION: f64 = 0.20;
/// HTTP APIs, the first 300 million requests a month.
pub const API_GATEWAY_HTTP_PER_MILLION: f64 = 1.00;
/// SES outbound email (SESv2 `SendEmail` is a REST call: the proxy names it `SES.POST`).
pub const SES_PER_THOUSAND_EMAILS: f64 = 0.10;
/// IoT Core messages (each publish up to 5 KB is one).
pub const IOT_PER_MILLION_MESSAGES: f64 = 1.00;
/// S3 LIST requests (`S3.GET` on a bucket: the recording check).
pub const S3_LIST_PER_THOUSAND: f64 = 0.005;
/// arm64, per GB-second.
pub const LAMBDA_ARM_GB_SECOND: f64 = 0.000_013_333_4;
/// What each invocation is billed for, assumed (measured handler times are lower):
/// 128 MB for 100 ms.
pub const LAMBDA_ASSUMED_GB_SECONDS: f64 = 0.125 * 0.1;
/// Step Functions Standard, per state transition.
pub const SFN_PER_TRANSITION: f64 = 0.000_025;
/// The ADR's own estimate for Option 2, per 1,000 workflows.
pub const ADR_SFN_PER_THOUSAND: f64 = 0.15;

/// Dollars per 1,000 workflows, by service, from requests per workflow.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Cost {
    pub sqs: f64,
    pub sns: f64,
    pub dynamodb: f64,
    pub lambda: f64,
    pub other: f64,
}

impl Cost {
    pub fn total(&self) -> f64 {
        self.sqs + self.sns + self.dynamodb + self.lambda + self.other
    }
}

/// `items_per_transaction`: items in each TransactWriteItems (the report plus its events).
pub fn per_thousand(per_workflow: &BTreeMap<String, f64>, items_per_transaction: f64) -> Cost {
    let mut c = Cost::default();
    let mut invocations = 0.0;
    for (kind, &n) in per_workflow {
        let (esm, name) = match kind.strip_prefix("ESM:") {
            Some(rest) => (true, rest),
            None => (false, kind.as_str()),
        };
        match name {
            // A subset of ReceiveMessage: each is one invocation, not another request.
            "SQS.ReceiveMessage.NonEmpty" if esm => invocations += n,
            s if s.starts_with("SQS.") => c.sqs += n * SQS_PER_MILLION / 1e6,
            "SNS.Publish" => c.sns += n * SNS_PUBLISH_PER_MILLION / 1e6,
            // Transactions cost two write units per item (items under 1 KB here).
            "DynamoDB.TransactWriteItems" => {
                c.dynamodb += n * 2.0 * items_per_transaction * DYNAMODB_WRU_PER_MILLION / 1e6
            }
            "DynamoDB.UpdateItem" | "DynamoDB.PutItem" | "DynamoDB.DeleteItem" => {
                c.dynamodb += n * DYNAMODB_WRU_PER_MILLION / 1e6
            }
            // Strongly consistent reads of items under 4 KB: one read unit each.
            "DynamoDB.GetItem" | "DynamoDB.Query" => c.dynamodb += n * DYNAMODB_RRU_PER_MILLION / 1e6,
            "DynamoDB.BatchGetItem" => c.dynamodb += n * items_per_transaction * DYNAMODB_RRU_PER_MILLION / 1e6,
            s if s.starts_with("SecretsManager.") => c.other += n * SECRETS_PER_10K / 1e4,
            // Requests the harness made through the HTTP API: each is an invocation.
            "APIGateway.Request" => {
                c.other += n * API_GATEWAY_HTTP_PER_MILLION / 1e6;
                invocations += n;
            }
            s if s.starts_with("SES.") => c.other += n * SES_PER_THOUSAND_EMAILS / 1e3,
            s if s.starts_with("iotdata.") || s.starts_with("IoT") => c.other += n * IOT_PER_MILLION_MESSAGES / 1e6,
            s if s.starts_with("S3.") => c.other += n * S3_LIST_PER_THOUSAND / 1e3,
            _ => {}
        }
    }
    c.lambda = invocations * (LAMBDA_REQUESTS_PER_MILLION / 1e6 + LAMBDA_ASSUMED_GB_SECONDS * LAMBDA_ARM_GB_SECOND);
    for v in [&mut c.sqs, &mut c.sns, &mut c.dynamodb, &mut c.lambda, &mut c.other] {
        *v *= 1000.0;
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thousand_workflows_of_known_requests_cost_what_the_price_list_says() {
        let per = BTreeMap::from([
            ("SQS.SendMessage".to_owned(), 1.0),
            ("ESM:SQS.ReceiveMessage".to_owned(), 1.0),
            ("ESM:SQS.ReceiveMessage.NonEmpty".to_owned(), 1.0),
            ("SNS.Publish".to_owned(), 2.0),
            ("DynamoDB.TransactWriteItems".to_owned(), 1.0),
            ("DynamoDB.UpdateItem".to_owned(), 4.0),
            ("DynamoDB.GetItem".to_owned(), 2.0),
        ]);
        let c = per_thousand(&per, 2.0);
        assert!((c.sqs - 2.0 * 0.40 / 1000.0).abs() < 1e-12, "{c:?}");
        assert!((c.sns - 2.0 * 0.50 / 1000.0).abs() < 1e-12);
        // 4 WRU for the transaction, 4 for the updates; 2 RRU.
        assert!((c.dynamodb - (8.0 * 0.625 + 2.0 * 0.125) / 1000.0).abs() < 1e-12);
        assert!(c.lambda > 0.0);
    }

    #[test]
    fn api_calls_emails_and_publishes_are_priced_and_api_calls_are_invocations() {
        let per = BTreeMap::from([
            ("APIGateway.Request".to_owned(), 2.0),
            ("SES.POST".to_owned(), 3.0),
            ("iotdata.POST".to_owned(), 1.0),
            ("connect.POST".to_owned(), 1.0),
        ]);
        let c = per_thousand(&per, 1.0);
        let other = (2.0 * 1.00 / 1e6 + 3.0 * 0.10 / 1e3 + 1.0 * 1.00 / 1e6) * 1000.0;
        assert!((c.other - other).abs() < 1e-12, "{c:?}");
        let lambda = 2.0 * (0.20 / 1e6 + 0.125 * 0.1 * 0.000_013_333_4) * 1000.0;
        assert!((c.lambda - lambda).abs() < 1e-12, "{c:?}");
        assert_eq!((c.sqs, c.sns, c.dynamodb), (0.0, 0.0, 0.0));
    }
}
