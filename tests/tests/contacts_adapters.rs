//! The contacts table's adapter against the emulator, with the table and its two
//! indexes provisioned from the template (no functions running): every write's
//! condition, the sweep's sparse index, paging, deletes, the API's index.

use chrono::{DateTime, Duration, TimeZone, Utc};
use contacts::dynamo::DynamoContactStore;
use contacts::flow_log::FlowRecordingSetting;
use contacts::ports::{Cached, ContactReader, ContactStore, PendingContacts};
use contacts::{Contact, ContactId, ContactState, ContactView, InstanceId, RecordingState};
use integration_tests::Driver;

fn at(min: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 10, 0, 0).single().expect("time") + Duration::minutes(min)
}

fn contact(n: u32) -> Contact {
    let requested = FlowRecordingSetting {
        contact_id: ContactId::parse(&format!("00000000-0000-4000-8000-{n:012}")).expect("id"),
        instance_id: InstanceId::parse("5e7c0a11-0003-4003-8003-00000000c0a1").expect("instance"),
        at: Some(at(0)),
        participants: vec!["Agent".into(), "Customer".into()],
        analytics: true,
    };
    Contact::initialised(requested, at(0))
}

fn view(agent: bool, ended: bool) -> ContactView {
    ContactView {
        channel: Some(contacts::Channel::Voice),
        initiated_at: Some(at(0)),
        agent_connected_at: agent.then(|| at(1)),
        disconnected_at: ended.then(|| at(3)),
    }
}

async fn all_pending(store: &DynamoContactStore, state: ContactState) -> Vec<ContactId> {
    let (mut out, mut after) = (Vec::new(), None);
    loop {
        let page = store.pending(state, after, 7).await.expect("Query");
        out.extend(page.items);
        match page.next {
            Some(next) => after = Some(next),
            None => return out,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_only_move_contacts_forward_and_the_indexes_follow() {
    let d = Driver::start_resources_only().await;
    let store = DynamoContactStore::new(d.dynamodb(), d.table("ContactsTable"));
    let c = contact(1);
    let id = c.contact_id.clone();

    assert_eq!(store.initialise(&c).await.expect("put"), Cached::Created);
    assert_eq!(store.initialise(&contact(1)).await.expect("put"), Cached::AlreadyCached);
    assert_eq!(ContactStore::get(&store, &id).await.expect("get"), Some(c.clone()), "round trip");

    assert!(store.advance(&id, ContactState::InProgressAgent, &view(true, false), at(2)).await.expect("update"));
    assert!(!store.advance(&id, ContactState::InProgressQueue, &view(false, false), at(2)).await.expect("update"));
    assert!(!store.advance(&id, ContactState::InProgressAgent, &view(true, false), at(2)).await.expect("update"));
    assert!(store.advance(&id, ContactState::CompletedAgent, &view(true, true), at(4)).await.expect("update"));
    assert!(!store.advance(&id, ContactState::CompletedQueue, &view(false, true), at(4)).await.expect("update"));
    let missing = ContactId::parse("00000000-0000-4000-8000-999999999999").expect("id");
    assert!(!store.advance(&missing, ContactState::InProgressQueue, &view(false, false), at(2)).await.expect("update"));
    assert_eq!(ContactStore::get(&store, &missing).await.expect("get"), None, "no item created by a failed update");

    let moved = ContactStore::get(&store, &id).await.expect("get").expect("contact");
    assert_eq!(moved.state, ContactState::CompletedAgent);
    assert_eq!((moved.agent_connected_at, moved.disconnected_at), (Some(at(1)), Some(at(3))));
    assert_eq!(all_pending(&store, ContactState::CompletedAgent).await, vec![id.clone()]);
    assert!(all_pending(&store, ContactState::Initialised).await.is_empty());

    // The recording state is set once; a missing one stays swept until its alert is out.
    assert!(store.record_recording(&id, RecordingState::Missing, None, at(20)).await.expect("update"));
    assert!(!store.record_recording(&id, RecordingState::Recorded, Some("k"), at(21)).await.expect("update"));
    assert_eq!(all_pending(&store, ContactState::CompletedAgent).await, vec![id.clone()]);
    assert!(store.claim_alert(&id, at(20), at(22)).await.expect("claim"));
    assert!(!store.claim_alert(&id, at(21), at(23)).await.expect("claim"), "held by the first");
    store.release_alert(&id).await.expect("release");
    assert!(store.claim_alert(&id, at(21), at(23)).await.expect("claim"), "released");
    assert!(store.mark_alerted(&id, at(21)).await.expect("update"));
    assert!(!store.mark_alerted(&id, at(22)).await.expect("update"));
    assert!(!store.claim_alert(&id, at(30), at(32)).await.expect("claim"), "sent: never again");
    assert!(all_pending(&store, ContactState::CompletedAgent).await.is_empty(), "off the sweep");

    // Closing is forward-only too, and takes a contact off the sweep.
    let other = contact(2);
    store.initialise(&other).await.expect("put");
    assert!(store.close(&other.contact_id, "gone", at(5)).await.expect("close"));
    assert!(!store.close(&other.contact_id, "again", at(6)).await.expect("close"));
    assert!(all_pending(&store, ContactState::Initialised).await.is_empty());

    // The API's index: by recording state and check time.
    let page = store.by_recording_state(RecordingState::Missing, at(0), at(60), 10, None).await.expect("Query");
    assert_eq!(page.items.iter().map(|c| c.contact_id.clone()).collect::<Vec<_>>(), vec![id]);
    assert!(store
        .by_recording_state(RecordingState::Missing, at(30), at(60), 10, None)
        .await
        .expect("Query")
        .items
        .is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweep_pages_through_its_index_and_deletes_in_batches() {
    let d = Driver::start_resources_only().await;
    let store = DynamoContactStore::new(d.dynamodb(), d.table("ContactsTable"));
    for n in 0..30 {
        let c = contact(100 + n);
        store.initialise(&c).await.expect("put");
        if n % 2 == 0 {
            store
                .advance(&c.contact_id, ContactState::CompletedQueue, &view(false, true), at(4))
                .await
                .expect("update");
        }
    }
    let pending = all_pending(&store, ContactState::Initialised).await;
    assert_eq!(pending.len(), 15, "pages of 7, every one found once");
    let done = all_pending(&store, ContactState::CompletedQueue).await;
    assert_eq!(done.len(), 15);
    store.delete(&done).await.expect("BatchWriteItem");
    assert!(all_pending(&store, ContactState::CompletedQueue).await.is_empty());
    assert_eq!(ContactStore::get(&store, &done[0]).await.expect("get"), None);
    assert!(ContactStore::get(&store, &pending[0]).await.expect("get").is_some());
}

/// Issue 16: settings merge as a set (replays and order do not matter), a contact
/// whose flows only turned recording off stays off the sweep until one turns it on,
/// poll claims (read in batches, taken once, ended by a poll or given back), the
/// not-applicable and not-expected outcomes, and the flow-log heartbeat.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_merge_claims_hold_and_the_heartbeat_moves_forward() {
    use contacts::ports::FlowLogHeartbeat;
    use contacts::{Channel, RecordingSetting};

    let d = Driver::start_resources_only().await;
    let store = DynamoContactStore::new(d.dynamodb(), d.table("ContactsTable"));
    let id = ContactId::parse("00000000-0000-4000-8000-000000000501").expect("id");
    let instance = InstanceId::parse("5e7c0a11-0003-4003-8003-00000000c0a1").expect("instance");
    let on = RecordingSetting::new(at(0), vec!["Agent".into(), "Customer".into()], false);
    let off = RecordingSetting::new(at(1), vec![], false);
    let only = |s: &RecordingSetting| Contact::from_settings(id.clone(), instance.clone(), [s.clone()], at(2));

    // The later line first: cached, but not watched.
    assert_eq!(store.initialise(&only(&off)).await.expect("put"), Cached::Created);
    assert!(all_pending(&store, ContactState::Initialised).await.is_empty(), "only switched off: not swept");
    assert_eq!(store.initialise(&only(&on)).await.expect("merge"), Cached::Updated);
    assert_eq!(store.initialise(&only(&on)).await.expect("merge"), Cached::AlreadyCached, "a replay");
    assert_eq!(all_pending(&store, ContactState::Initialised).await, vec![id.clone()], "watched now");
    let c = ContactStore::get(&store, &id).await.expect("get").expect("contact");
    assert_eq!(c.recording_settings.iter().cloned().collect::<Vec<_>>(), vec![on.clone(), off.clone()]);

    // Poll claims.
    let candidates = store.poll_candidates(std::slice::from_ref(&id)).await.expect("BatchGetItem");
    assert_eq!((candidates.len(), candidates[0].poll_claimed_until), (1, None));
    assert!(store.claim_poll(&id, at(5), at(65)).await.expect("claim"));
    assert!(!store.claim_poll(&id, at(6), at(66)).await.expect("claim"), "a message is out");
    assert_eq!(
        store.poll_candidates(std::slice::from_ref(&id)).await.expect("get")[0].poll_claimed_until,
        Some(at(65))
    );
    store.unclaim_poll(&id, at(65)).await.expect("unclaim");
    assert!(store.claim_poll(&id, at(7), at(67)).await.expect("claim"), "given back");
    store.polled(&id, at(8)).await.expect("polled");
    let polled = store.poll_candidates(std::slice::from_ref(&id)).await.expect("get").remove(0);
    assert_eq!((polled.polled_at, polled.poll_claimed_until), (Some(at(8)), None), "the poll ended the claim");
    assert!(store.claim_poll(&id, at(9), at(69)).await.expect("claim"));
    assert!(store.advance(&id, ContactState::CompletedAgent, &view(true, true), at(10)).await.expect("advance"));
    assert_eq!(store.poll_candidates(std::slice::from_ref(&id)).await.expect("get")[0].poll_claimed_until, None);

    // Switched off before the agent connected (at(1) < at(1) + connection): not expected, off the sweep.
    assert!(store.record_recording(&id, RecordingState::NotExpected, None, at(20)).await.expect("update"));
    assert!(all_pending(&store, ContactState::CompletedAgent).await.is_empty());
    let page = store.by_recording_state(RecordingState::NotExpected, at(0), at(60), 10, None).await.expect("Query");
    assert_eq!(page.items.len(), 1);

    // A chat: not applicable, off the sweep, its channel kept.
    let chat = contact(502);
    store.initialise(&chat).await.expect("put");
    let chat_view = ContactView { channel: Some(Channel::Chat), ..view(true, false) };
    assert!(store.not_applicable(&chat.contact_id, &chat_view, at(4)).await.expect("update"));
    assert!(!store.not_applicable(&chat.contact_id, &chat_view, at(5)).await.expect("update"), "once");
    let stored = ContactStore::get(&store, &chat.contact_id).await.expect("get").expect("contact");
    assert_eq!((stored.recording_state, stored.channel), (Some(RecordingState::NotApplicable), Some(Channel::Chat)));
    assert!(all_pending(&store, ContactState::Initialised).await.is_empty());

    // The heartbeat: never backwards.
    assert_eq!(store.heartbeat().await.expect("get").last_delivery_at, None);
    store.delivered("/aws/connect/test", at(30)).await.expect("delivered");
    store.delivered("/aws/connect/test", at(29)).await.expect("an older delivery finishing late");
    store.watched(at(31), at(0)).await.expect("watched");
    let beat = store.heartbeat().await.expect("get");
    assert_eq!(
        (beat.last_delivery_at, beat.last_watch_at, beat.watching_since),
        (Some(at(30)), Some(at(31)), Some(at(0)))
    );
}
