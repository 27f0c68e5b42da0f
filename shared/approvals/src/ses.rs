//! SES (v2) as the [`Mailer`]: simple HTML + text emails from the verified sender.

use async_trait::async_trait;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
use kit::sdk::{classify_sdk_error, SdkFailure};

use crate::ports::{MailError, Mailer, OutgoingEmail};

pub struct SesMailer {
    client: aws_sdk_sesv2::Client,
    sender: String,
}

impl SesMailer {
    /// `sender` must be an identity verified in SES (the template provisions it).
    pub fn new(client: aws_sdk_sesv2::Client, sender: impl Into<String>) -> Self {
        Self { client, sender: sender.into() }
    }
}

fn content(text: &str) -> Result<Content, MailError> {
    Content::builder().data(text).charset("UTF-8").build().map_err(|e| MailError::Build(e.to_string()))
}

/// Whether SES refused the recipient rather than the request: an address it cannot
/// parse (`BadRequestException`; `InvalidParameterValue` in SES v1's words, which
/// the emulator uses), or `MessageRejected` for an address not verified while the
/// account is in the SES sandbox. A `MessageRejected` that names our own sender is
/// about the sender's identity (not verified, or no longer): every email would fail
/// alike, so it stays an error of the request (retried, then dead-lettered with its
/// reason) and never makes an approver undeliverable.
pub fn refuses_recipient(failure: &SdkFailure, sender: &str) -> bool {
    match failure.code.as_deref() {
        Some("BadRequestException" | "InvalidParameterValue") => true,
        Some("MessageRejected") => !failure.message.to_ascii_lowercase().contains(&sender.to_ascii_lowercase()),
        _ => false,
    }
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, email: &OutgoingEmail) -> Result<(), MailError> {
        let message = Message::builder()
            .subject(content(&email.subject)?)
            .body(Body::builder().html(content(&email.html)?).text(content(&email.text)?).build())
            .build();
        let sent = self
            .client
            .send_email()
            .from_email_address(&self.sender)
            .destination(Destination::builder().to_addresses(&email.to).build())
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await;
        // The SDK error carries SES's code and message, never the request.
        match sent.map_err(|e| classify_sdk_error(&e)) {
            Ok(_) => Ok(()),
            Err(failure) if refuses_recipient(&failure, &self.sender) => Err(MailError::Refused(failure)),
            Err(failure) => Err(MailError::Ses(failure)),
        }
    }
}

#[cfg(test)]
mod tests {
    use kit::ErrorClass;

    use super::*;

    fn failure(code: &str, message: &str) -> SdkFailure {
        SdkFailure { class: ErrorClass::Retryable, code: Some(code.into()), message: message.into() }
    }

    #[test]
    fn a_refused_recipient_is_told_from_a_refused_sender_or_an_outage() {
        let sender = "approvals@example.gov.uk";
        for refused in [
            failure("BadRequestException", "Illegal address"),
            failure("InvalidParameterValue", "Missing domain"),
            failure(
                "MessageRejected",
                "Email address is not verified. The following identities failed the check in region \
                 EU-WEST-2: someone@example.org",
            ),
        ] {
            assert!(refuses_recipient(&refused, sender), "{refused}");
        }
        for request_wide in [
            failure("MessageRejected", "Email address not verified Approvals@Example.gov.uk"),
            failure("TooManyRequestsException", "Maximum sending rate exceeded."),
            failure("SendingPausedException", "sending paused"),
            failure("AccountSuspendedException", "suspended"),
            failure("AccessDeniedException", "not authorized to perform: ses:SendEmail"),
            SdkFailure::retryable("could not reach the service"),
        ] {
            assert!(!refuses_recipient(&request_wide, sender), "{request_wide}");
        }
    }

    #[test]
    fn a_refusal_is_permanent_not_an_outage_and_does_not_quote_the_address() {
        use kit::Classify;
        let err = MailError::Refused(failure("MessageRejected", "not verified: someone@example.org"));
        assert_eq!(err.class(), ErrorClass::Permanent);
        assert_eq!(err.kind(), "ses_recipient_refused");
        assert_eq!(err.dependency(), None);
        assert_eq!(err.refusal_code(), Some("MessageRejected"));
        assert!(!err.to_string().contains("someone@"), "{err}");
    }
}
