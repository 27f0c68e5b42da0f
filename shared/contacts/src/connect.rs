//! DescribeContact on Amazon Connect (feature `connect`). The endpoint comes from
//! the SDK's standard settings: `AWS_ENDPOINT_URL_CONNECT` points it elsewhere
//! (the local stack's fake) without any branch here.

use async_trait::async_trait;
use aws_sdk_connect::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_connect::operation::describe_contact::DescribeContactError;
use chrono::{DateTime, Utc};
use kit::sdk::classify_sdk_error;

use crate::contact::{ContactId, InstanceId};
use crate::ports::{ContactDirectory, Described, DirectoryError};
use crate::view::{Channel, ContactView};

/// Connect's throttling answers (its docs name the first; the 429 carries either).
const THROTTLING_CODES: &[&str] = &["ThrottlingException", "TooManyRequestsException", "LimitExceededException"];

pub struct ConnectDirectory {
    client: aws_sdk_connect::Client,
}

impl ConnectDirectory {
    pub fn new(client: aws_sdk_connect::Client) -> Self {
        Self { client }
    }
}

fn time(t: Option<&aws_smithy_types::DateTime>) -> Option<DateTime<Utc>> {
    let t = t?;
    DateTime::from_timestamp(t.secs(), t.subsec_nanos())
}

/// The view, from the SDK's contact: only the channel and the three times (the
/// contact also holds the customer's phone number, which is never read).
fn view(contact: &aws_sdk_connect::types::Contact) -> ContactView {
    ContactView {
        channel: contact.channel().map(|c| Channel::parse(c.as_str())),
        initiated_at: time(contact.initiation_timestamp()),
        agent_connected_at: time(contact.agent_info().and_then(|a| a.connected_to_agent_timestamp())),
        disconnected_at: time(contact.disconnect_timestamp()),
    }
}

/// The decision over the SDK's own error: unknown contact, throttled, or other.
fn classify<R: std::fmt::Debug>(err: &SdkError<DescribeContactError, R>) -> Result<Described, DirectoryError> {
    if let Some(service) = err.as_service_error() {
        if matches!(service, DescribeContactError::ResourceNotFoundException(_)) {
            let reason = format!("ResourceNotFoundException: {}", service.message().unwrap_or("no message"));
            return Ok(Described::Unknown { reason });
        }
        if service.code().is_some_and(|c| THROTTLING_CODES.contains(&c)) {
            return Err(DirectoryError::Throttled(classify_sdk_error(err)));
        }
    }
    Err(DirectoryError::Sdk(classify_sdk_error(err)))
}

#[async_trait]
impl ContactDirectory for ConnectDirectory {
    async fn describe(&self, instance: &InstanceId, contact: &ContactId) -> Result<Described, DirectoryError> {
        let result =
            self.client.describe_contact().instance_id(instance.as_str()).contact_id(contact.as_str()).send().await;
        match result {
            Ok(out) => match out.contact() {
                Some(c) => Ok(Described::Found(view(c))),
                None => Ok(Described::Unknown { reason: "DescribeContact answered without a contact".to_owned() }),
            },
            Err(e) => classify(&e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_connect::types::error::{ResourceNotFoundException, ThrottlingException};
    use aws_sdk_connect::types::{AgentInfo, Contact};
    use aws_smithy_types::error::ErrorMetadata;

    fn service_error(e: DescribeContactError) -> SdkError<DescribeContactError, ()> {
        SdkError::service_error(e, ())
    }

    #[test]
    fn not_found_closes_throttling_backs_off() {
        let missing = ResourceNotFoundException::builder()
            .message("Contact not found")
            .meta(ErrorMetadata::builder().code("ResourceNotFoundException").message("Contact not found").build())
            .build();
        let got = classify(&service_error(DescribeContactError::ResourceNotFoundException(missing)));
        assert!(matches!(got, Ok(Described::Unknown { reason }) if reason.contains("Contact not found")));

        let throttled = ThrottlingException::builder()
            .message("Rate exceeded")
            .meta(ErrorMetadata::builder().code("ThrottlingException").build())
            .build();
        let err = classify(&service_error(DescribeContactError::ThrottlingException(throttled))).unwrap_err();
        assert_eq!(kit::Classify::kind(&err), "connect_throttled");
        assert_eq!(kit::Classify::class(&err), kit::ErrorClass::Retryable);
    }

    #[test]
    fn the_view_reads_only_the_times() {
        let at = aws_smithy_types::DateTime::from_millis(1_693_305_011_038);
        let contact = Contact::builder()
            .agent_info(AgentInfo::builder().connected_to_agent_timestamp(at).build())
            .initiation_timestamp(at)
            .channel(aws_sdk_connect::types::Channel::Chat)
            .build();
        let v = view(&contact);
        assert_eq!(v.channel, Some(Channel::Chat));
        assert!(!v.is_voice());
        assert_eq!(crate::time::render(v.agent_connected_at.unwrap()), "2023-08-29T10:30:11.038Z");
        assert_eq!(v.disconnected_at, None);
    }
}
