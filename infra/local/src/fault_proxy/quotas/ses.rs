//! SES: at most 50 recipients (To, Cc and Bcc together) per message.
//!
//! Limit: "The message may not include more than 50 recipients, across the
//! To:, CC: and BCC: fields" (SES API reference, `SendEmail`; SES quotas:
//! "50 recipients per message. A recipient is any To, CC, or BCC address").
//!
//! v1 (query protocol, `Action=SendEmail`,
//! `Destination.ToAddresses.member.N`): AWS answers 400 `InvalidParameterValue`
//! "Recipient count exceeds 50." (the SDKs' own reports of it, e.g.
//! doubleunion/arooo#243: `Aws::SES::Errors::InvalidParameterValue: Recipient
//! count exceeds 50.`; SES's SMTP interface says the same after "554
//! Transaction failed:"). Not a modelled error of SES v1.
//!
//! v2 (REST-JSON, `POST /v2/email/outbound-emails`, `Destination.ToAddresses`
//! arrays): the same check behind SES v2's front end, answered as
//! `BadRequestException` (400, "The input you provided is invalid", the
//! error SES v2 models for invalid input), with the same message. This code
//! has not been seen from a real v2 endpoint; see the docs' known differences.
//!
//! moto 5.2.5 refuses over 50 too, as `MessageRejected` "Too many
//! recipients." for both versions: the proxy answers first, with AWS's code.

use serde_json::Value;

use super::{json_body, list_items, with_detail};
use super::{ErrorShape, QuotaViolation};

/// Recipients per message, To, Cc and Bcc together.
pub const MAX_RECIPIENTS: usize = 50;

/// SES v2's `SendEmail`.
pub const V2_SEND_EMAIL_PATH: &str = "/v2/email/outbound-emails";

const FIELDS: [&str; 3] = ["ToAddresses", "CcAddresses", "BccAddresses"];

/// To + Cc + Bcc in a `Destination` (JSON arrays or query-protocol lists).
fn recipients(destination: Option<&Value>) -> usize {
    let Some(destination) = destination else { return 0 };
    FIELDS.iter().map(|field| list_items(destination.get(*field)).map_or(0, |items| items.len())).sum()
}

fn too_many(rule: &'static str, error: ErrorShape, count: usize) -> Option<QuotaViolation> {
    (count > MAX_RECIPIENTS).then(|| {
        QuotaViolation::bad_request(
            rule,
            error,
            with_detail(
                &format!("Recipient count exceeds {MAX_RECIPIENTS}."),
                format_args!("{count} recipients across To, Cc and Bcc"),
            ),
        )
    })
}

pub fn check_v1(params: &Value) -> Option<QuotaViolation> {
    let error =
        ErrorShape::AwsQuery { code: "InvalidParameterValue", xmlns: "http://ses.amazonaws.com/doc/2010-12-01/" };
    too_many("SES.SendEmail recipients", error, recipients(params.get("Destination")))
}

pub fn check_v2(body: &[u8]) -> Option<QuotaViolation> {
    let request = json_body(body)?;
    let error = ErrorShape::RestJson { error_type: "BadRequestException" };
    too_many("SESv2.SendEmail recipients", error, recipients(request.get("Destination")))
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderMap, Method};
    use serde_json::json;

    use super::super::tests::form;
    use super::*;

    fn addresses(prefix: &str, count: usize) -> Vec<String> {
        (0..count).map(|i| format!("{prefix}{i}@example.test")).collect()
    }

    fn v2(to: usize, cc: usize, bcc: usize) -> Option<QuotaViolation> {
        let body = json!({
            "FromEmailAddress": "noreply@example.test",
            "Destination": {
                "ToAddresses": addresses("to", to),
                "CcAddresses": addresses("cc", cc),
                "BccAddresses": addresses("bcc", bcc)
            },
            "Content": {"Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}}}
        });
        super::super::check(&Method::POST, V2_SEND_EMAIL_PATH, &HeaderMap::new(), None, body.to_string().as_bytes())
    }

    #[test]
    fn v2_counts_to_cc_and_bcc_up_to_50() {
        assert_eq!(v2(50, 0, 0), None);
        assert_eq!(v2(20, 20, 10), None);
        let refused = v2(20, 20, 11).expect("refused");
        assert_eq!(refused.status, 400);
        assert_eq!(refused.error, ErrorShape::RestJson { error_type: "BadRequestException" });
        assert_eq!(refused.message, "Recipient count exceeds 50. (local stack: 51 recipients across To, Cc and Bcc)");
        assert!(v2(51, 0, 0).is_some());
        // Only the send path: other SES v2 calls pass.
        let other = json!({"Destination": {"ToAddresses": addresses("to", 60)}}).to_string();
        assert_eq!(
            super::super::check(&Method::POST, "/v2/email/contact-lists", &HeaderMap::new(), None, other.as_bytes()),
            None
        );
    }

    fn v1(to: usize, cc: usize, bcc: usize) -> Option<QuotaViolation> {
        let mut pairs =
            vec![("Action".to_owned(), "SendEmail".to_owned()), ("Source".into(), "noreply@example.test".into())];
        for (field, count) in [("ToAddresses", to), ("CcAddresses", cc), ("BccAddresses", bcc)] {
            for (i, address) in addresses(field, count).into_iter().enumerate() {
                pairs.push((format!("Destination.{field}.member.{}", i + 1), address));
            }
        }
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
        super::super::check(&Method::POST, "/", &form(), None, body.as_bytes())
    }

    #[test]
    fn v1_counts_to_cc_and_bcc_members_up_to_50() {
        assert_eq!(v1(50, 0, 0), None);
        assert_eq!(v1(1, 1, 48), None);
        let refused = v1(1, 1, 49).expect("refused");
        assert_eq!(
            refused.error,
            ErrorShape::AwsQuery { code: "InvalidParameterValue", xmlns: "http://ses.amazonaws.com/doc/2010-12-01/" }
        );
        assert_eq!(refused.message, "Recipient count exceeds 50. (local stack: 51 recipients across To, Cc and Bcc)");
    }
}
