//! The recording detector's queue steps (poll-contact, check-recording) on any
//! contact id their decoder lets through: handled, or refused permanently.

use contacts::flow_log::FlowRecordingSetting;
use contacts::testing::{FakeDirectory, MemoryArchive, MemoryContactStore};
use contacts::usecases::{check_recording, poll_contact, CheckSettings};
use contacts::{CheckRecording, Contact, ContactError, ContactId, InstanceId, PollContact};
use kit::decode::{Decode, EnvelopeBody};
use kit::testing::RecordingPublisher;
use kit::{Classify, Envelope, ErrorClass, Message};
use proptest::prelude::*;

use crate::support::{block_on, now, sqs_message, text, EMAIL_PART};

const ID: &str = "1c0ffee0-0003-4003-8003-000000000001";

/// A store holding one contact, as ingest cached it.
fn store() -> MemoryContactStore {
    let store = MemoryContactStore::default();
    let requested = FlowRecordingSetting {
        contact_id: ContactId::parse(ID).unwrap(),
        instance_id: InstanceId::parse("5e7c0a11-0003-4003-8003-00000000c0a1").unwrap(),
        at: None,
        participants: vec!["Agent".into()],
        analytics: false,
    };
    store.put(Contact::initialised(requested, now() - chrono::Duration::hours(1)));
    store
}

fn delivered<M: Message + Clone>(payload: M) -> M {
    let body = serde_json::to_string(&Envelope::new("wf", "c-1", payload)).unwrap();
    EnvelopeBody::<M>::default().decode(&sqs_message(&body)).unwrap().input.payload
}

/// The contact's id in the forms a UUID is written in, or anything.
fn contact_id() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => Just(ID.to_owned()),
        1 => Just(ID.to_uppercase()),
        1 => Just(format!("{{{ID}}}")),
        1 => Just(format!("urn:uuid:{ID}")),
        1 => Just(ID.replace('-', "")),
        6 => text(),
    ]
}

fn settled(step: &str, result: Result<kit::batch::Outcome, ContactError>) -> Result<(), TestCaseError> {
    if let Err(e) = result {
        let reason = kit::error::chain(&e);
        prop_assert_eq!(e.class(), ErrorClass::Permanent, "{} retries a message that cannot heal: {}", step, reason);
        prop_assert!(!reason.contains(EMAIL_PART), "{} quotes the input: {}", step, reason);
    }
    Ok(())
}

proptest! {
    #[test]
    fn poll_contact_handles_or_refuses_any_contact_id(contact_id in contact_id()) {
        let message = delivered(PollContact { contact_id });
        let result = block_on(poll_contact(&store(), &FakeDirectory::default(), &message, now()));
        settled("poll-contact", result)?;
    }

    #[test]
    fn check_recording_handles_or_refuses_any_contact_id(contact_id in contact_id()) {
        let message = delivered(CheckRecording { contact_id });
        let settings = CheckSettings { key_prefix: "connect/x/CallRecordings".into(), grace: std::time::Duration::from_secs(600) };
        let (archive, alerts) = (MemoryArchive::default(), RecordingPublisher::default());
        let result = block_on(check_recording(&store(), &archive, &alerts, &settings, &message, now()));
        settled("check-recording", result)?;
    }
}
