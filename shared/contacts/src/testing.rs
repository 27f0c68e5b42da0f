//! In-memory stand-ins for the contact ports, with the same conditional semantics
//! as the DynamoDB adapter, for unit tests of the use cases and handlers.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kit::sdk::SdkFailure;
use kit::{Envelope, Message};

use crate::contact::{Contact, ContactId, InstanceId};
use crate::dynamo::Cursor;
use crate::ports::*;
use crate::state::{ContactState, RecordingState};
use crate::view::{Channel, ContactView};

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Contacts by id; the sweep's index is derived from [`Contact::pending_work`].
#[derive(Default)]
pub struct MemoryContactStore {
    contacts: Mutex<BTreeMap<ContactId, Contact>>,
    alert_claims: Mutex<HashMap<ContactId, DateTime<Utc>>>,
    heartbeat: Mutex<Heartbeat>,
    /// Writes that fail (retryable) before the next succeeds.
    failures_left: Mutex<u32>,
}

impl MemoryContactStore {
    pub fn contact(&self, id: &ContactId) -> Option<Contact> {
        lock(&self.contacts).get(id).cloned()
    }
    pub fn all(&self) -> Vec<Contact> {
        lock(&self.contacts).values().cloned().collect()
    }
    pub fn put(&self, contact: Contact) {
        lock(&self.contacts).insert(contact.contact_id.clone(), contact);
    }
    pub fn fail_next(&self, n: u32) {
        *lock(&self.failures_left) = n;
    }
    fn injected(&self) -> Result<(), StoreError> {
        let mut left = lock(&self.failures_left);
        if *left > 0 {
            *left -= 1;
            return Err(StoreError::Sdk { operation: "PutItem", failure: SdkFailure::retryable("injected") });
        }
        Ok(())
    }
}

#[async_trait]
impl ContactStore for MemoryContactStore {
    async fn initialise(&self, contact: &Contact) -> Result<Cached, StoreError> {
        self.injected()?;
        let mut contacts = lock(&self.contacts);
        let Some(existing) = contacts.get_mut(&contact.contact_id) else {
            contacts.insert(contact.contact_id.clone(), contact.clone());
            return Ok(Cached::Created);
        };
        let new: Vec<_> = contact.recording_settings.missing_from(&existing.recording_settings).cloned().collect();
        if new.is_empty() {
            return Ok(Cached::AlreadyCached);
        }
        existing.recording_settings.extend(new);
        Ok(Cached::Updated)
    }

    async fn get(&self, id: &ContactId) -> Result<Option<Contact>, StoreError> {
        Ok(self.contact(id))
    }

    async fn advance(
        &self,
        id: &ContactId,
        next: ContactState,
        view: &ContactView,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.injected()?;
        let mut contacts = lock(&self.contacts);
        let Some(c) = contacts.get_mut(id).filter(|c| c.state.rank() < next.rank()) else {
            return Ok(false);
        };
        c.state = next;
        c.polled_at = Some(now);
        c.poll_claimed_until = None;
        c.updated_at = now;
        see(c, view);
        Ok(true)
    }

    async fn polled(&self, id: &ContactId, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.injected()?;
        if let Some(c) = lock(&self.contacts).get_mut(id) {
            c.polled_at = Some(now);
            c.poll_claimed_until = None;
        }
        Ok(())
    }

    async fn not_applicable(&self, id: &ContactId, view: &ContactView, now: DateTime<Utc>) -> Result<bool, StoreError> {
        self.injected()?;
        let mut contacts = lock(&self.contacts);
        let Some(c) = contacts
            .get_mut(id)
            .filter(|c| c.recording_state.is_none() && c.state.rank() < ContactState::Closed.rank())
        else {
            return Ok(false);
        };
        c.recording_state = Some(RecordingState::NotApplicable);
        c.recording_checked_at = Some(now);
        c.polled_at = Some(now);
        c.poll_claimed_until = None;
        c.updated_at = now;
        see(c, view);
        c.channel = Some(view.channel.unwrap_or(Channel::Other));
        Ok(true)
    }

    async fn close(&self, id: &ContactId, reason: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let mut contacts = lock(&self.contacts);
        let Some(c) = contacts.get_mut(id).filter(|c| c.state.rank() < ContactState::Closed.rank()) else {
            return Ok(false);
        };
        c.state = ContactState::Closed;
        c.closed_reason = Some(reason.to_owned());
        c.updated_at = now;
        Ok(true)
    }

    async fn record_recording(
        &self,
        id: &ContactId,
        state: RecordingState,
        key: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.injected()?;
        let mut contacts = lock(&self.contacts);
        let Some(c) =
            contacts.get_mut(id).filter(|c| c.state == ContactState::CompletedAgent && c.recording_state.is_none())
        else {
            return Ok(false);
        };
        c.recording_state = Some(state);
        c.recording_checked_at = Some(now);
        c.recording_key = key.map(str::to_owned);
        c.updated_at = now;
        Ok(true)
    }

    async fn claim_alert(&self, id: &ContactId, now: DateTime<Utc>, until: DateTime<Utc>) -> Result<bool, StoreError> {
        let contacts = lock(&self.contacts);
        let due = contacts
            .get(id)
            .is_some_and(|c| c.recording_state == Some(RecordingState::Missing) && c.alert_sent_at.is_none());
        let mut claims = lock(&self.alert_claims);
        if !due || claims.get(id).is_some_and(|held| *held >= now) {
            return Ok(false);
        }
        claims.insert(id.clone(), until);
        Ok(true)
    }

    async fn release_alert(&self, id: &ContactId) -> Result<(), StoreError> {
        lock(&self.alert_claims).remove(id);
        Ok(())
    }

    async fn mark_alerted(&self, id: &ContactId, now: DateTime<Utc>) -> Result<bool, StoreError> {
        self.injected()?;
        lock(&self.alert_claims).remove(id);
        let mut contacts = lock(&self.contacts);
        let Some(c) = contacts
            .get_mut(id)
            .filter(|c| c.recording_state == Some(RecordingState::Missing) && c.alert_sent_at.is_none())
        else {
            return Ok(false);
        };
        c.alert_sent_at = Some(now);
        c.updated_at = now;
        Ok(true)
    }
}

/// What DescribeContact said, as the adapter stores it.
fn see(c: &mut Contact, view: &ContactView) {
    c.initiated_at = view.initiated_at.or(c.initiated_at);
    c.agent_connected_at = view.agent_connected_at.or(c.agent_connected_at);
    c.disconnected_at = view.disconnected_at.or(c.disconnected_at);
    c.channel = view.channel.or(c.channel);
}

#[async_trait]
impl FlowLogHeartbeat for MemoryContactStore {
    async fn delivered(&self, _log_group: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.injected()?;
        let mut beat = lock(&self.heartbeat);
        beat.last_delivery_at = beat.last_delivery_at.max(Some(at));
        Ok(())
    }

    async fn heartbeat(&self) -> Result<Heartbeat, StoreError> {
        Ok(*lock(&self.heartbeat))
    }

    async fn watched(&self, at: DateTime<Utc>, watching_since: DateTime<Utc>) -> Result<(), StoreError> {
        let mut beat = lock(&self.heartbeat);
        beat.last_watch_at = Some(at);
        beat.watching_since = Some(watching_since);
        Ok(())
    }
}

fn page_after<T: Clone>(all: Vec<(String, T)>, after: Option<Cursor>, limit: u32) -> Page<T> {
    let start = after.map(|c| c.encode());
    let mut rest: Vec<(String, T)> = match start {
        None => all,
        Some(s) => all.into_iter().skip_while(|(k, _)| k.as_str() != s).skip(1).collect(),
    };
    let more = rest.len() > limit as usize;
    rest.truncate(limit as usize);
    let next = if more { rest.last().and_then(|(k, _)| Cursor::decode(k).ok()) } else { None };
    Page { items: rest.into_iter().map(|(_, v)| v).collect(), next }
}

fn cursor_for(id: &ContactId) -> String {
    let key = HashMap::from([(
        crate::dynamo::attr::CONTACT_ID.to_owned(),
        aws_sdk_dynamodb::types::AttributeValue::S(id.to_string()),
    )]);
    Cursor::from_key(&key).map(|c| c.encode()).unwrap_or_default()
}

#[async_trait]
impl PendingContacts for MemoryContactStore {
    async fn pending(
        &self,
        state: ContactState,
        after: Option<Cursor>,
        limit: u32,
    ) -> Result<Page<ContactId>, StoreError> {
        let all: Vec<(String, ContactId)> = lock(&self.contacts)
            .values()
            .filter(|c| c.pending_work() == Some(state))
            .map(|c| (cursor_for(&c.contact_id), c.contact_id.clone()))
            .collect();
        Ok(page_after(all, after, limit))
    }

    async fn poll_candidates(&self, ids: &[ContactId]) -> Result<Vec<PollCandidate>, StoreError> {
        // As BatchGetItem: a key twice is refused.
        if ids.iter().collect::<HashSet<_>>().len() != ids.len() {
            return Err(StoreError::Sdk {
                operation: "BatchGetItem",
                failure: SdkFailure::permanent("ValidationException: Provided list of item keys contains duplicates"),
            });
        }
        let contacts = lock(&self.contacts);
        Ok(ids
            .iter()
            .filter_map(|id| contacts.get(id))
            .map(|c| PollCandidate {
                contact_id: c.contact_id.clone(),
                polled_at: c.polled_at,
                poll_claimed_until: c.poll_claimed_until,
            })
            .collect())
    }

    async fn claim_poll(&self, id: &ContactId, now: DateTime<Utc>, until: DateTime<Utc>) -> Result<bool, StoreError> {
        self.injected()?;
        let mut contacts = lock(&self.contacts);
        let Some(c) = contacts
            .get_mut(id)
            .filter(|c| c.pending_work().is_some() && c.poll_claimed_until.is_none_or(|held| held <= now))
        else {
            return Ok(false);
        };
        c.poll_claimed_until = Some(until);
        Ok(true)
    }

    async fn unclaim_poll(&self, id: &ContactId, until: DateTime<Utc>) -> Result<(), StoreError> {
        if let Some(c) = lock(&self.contacts).get_mut(id).filter(|c| c.poll_claimed_until == Some(until)) {
            c.poll_claimed_until = None;
        }
        Ok(())
    }

    async fn delete(&self, ids: &[ContactId]) -> Result<(), StoreError> {
        let mut contacts = lock(&self.contacts);
        for id in ids {
            contacts.remove(id);
        }
        Ok(())
    }
}

#[async_trait]
impl ContactReader for MemoryContactStore {
    async fn get(&self, id: &ContactId) -> Result<Option<Contact>, StoreError> {
        Ok(self.contact(id))
    }

    async fn by_recording_state(
        &self,
        state: RecordingState,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u32,
        after: Option<Cursor>,
    ) -> Result<Page<Contact>, StoreError> {
        let mut matching: Vec<Contact> = lock(&self.contacts)
            .values()
            .filter(|c| c.recording_state == Some(state))
            .filter(|c| c.recording_checked_at.is_some_and(|t| t >= from && t <= to))
            .cloned()
            .collect();
        matching.sort_by_key(|c| c.recording_checked_at);
        let all = matching.into_iter().map(|c| (cursor_for(&c.contact_id), c)).collect();
        Ok(page_after(all, after, limit))
    }
}

/// What Connect answers per contact: scripted answers in order (the last repeats).
#[derive(Default)]
pub struct FakeDirectory {
    scripts: Mutex<HashMap<ContactId, VecDeque<Result<Described, &'static str>>>>,
    throttle_next: Mutex<u32>,
    calls: Mutex<Vec<(InstanceId, ContactId)>>,
}

impl FakeDirectory {
    pub fn script(&self, id: &ContactId, answers: Vec<Described>) {
        lock(&self.scripts).insert(id.clone(), answers.into_iter().map(Ok).collect());
    }
    /// The next `n` calls (any contact) are throttled.
    pub fn throttle_next(&self, n: u32) {
        *lock(&self.throttle_next) = n;
    }
    pub fn calls(&self) -> usize {
        lock(&self.calls).len()
    }
}

#[async_trait]
impl ContactDirectory for FakeDirectory {
    async fn describe(&self, instance: &InstanceId, contact: &ContactId) -> Result<Described, DirectoryError> {
        lock(&self.calls).push((instance.clone(), contact.clone()));
        {
            let mut throttle = lock(&self.throttle_next);
            if *throttle > 0 {
                *throttle -= 1;
                return Err(DirectoryError::Throttled(SdkFailure {
                    class: kit::ErrorClass::Retryable,
                    code: Some("ThrottlingException".to_owned()),
                    message: "Rate exceeded".to_owned(),
                }));
            }
        }
        let mut scripts = lock(&self.scripts);
        let Some(answers) = scripts.get_mut(contact) else {
            return Ok(Described::Unknown { reason: "ResourceNotFoundException: not scripted".to_owned() });
        };
        let answer = if answers.len() > 1 { answers.pop_front() } else { answers.front().cloned() };
        match answer {
            Some(Ok(d)) => Ok(d),
            _ => Ok(Described::Unknown { reason: "ResourceNotFoundException: no answer".to_owned() }),
        }
    }
}

/// A bucket's keys.
#[derive(Default)]
pub struct MemoryArchive {
    keys: Mutex<HashSet<String>>,
    lists: Mutex<u32>,
}

impl MemoryArchive {
    pub fn put(&self, key: impl Into<String>) {
        lock(&self.keys).insert(key.into());
    }
    pub fn lists(&self) -> u32 {
        *lock(&self.lists)
    }
}

#[async_trait]
impl RecordingArchive for MemoryArchive {
    async fn find(&self, prefixes: &[String]) -> Result<Option<String>, ArchiveError> {
        *lock(&self.lists) += prefixes.len() as u32;
        let keys = lock(&self.keys);
        Ok(prefixes.iter().find_map(|p| keys.iter().find(|k| k.starts_with(p.as_str())).cloned()))
    }
}

/// Keeps every message sent (as JSON).
#[derive(Default)]
pub struct RecordingQueue {
    sent: Mutex<Vec<serde_json::Value>>,
    failures_left: Mutex<u32>,
}

impl RecordingQueue {
    pub fn sent(&self) -> Vec<serde_json::Value> {
        lock(&self.sent).clone()
    }
    /// The next `n` sends fail (retryable), sending nothing.
    pub fn fail_next(&self, n: u32) {
        *lock(&self.failures_left) = n;
    }
    pub fn contact_ids(&self) -> Vec<String> {
        self.sent().iter().filter_map(|m| m["payload"]["contact_id"].as_str().map(str::to_owned)).collect()
    }
}

#[async_trait]
impl WorkQueue for RecordingQueue {
    async fn send<M: Message>(&self, messages: &[Envelope<M>]) -> Result<(), WorkQueueError> {
        {
            let mut left = lock(&self.failures_left);
            if *left > 0 {
                *left -= 1;
                return Err(WorkQueueError::Sdk(SdkFailure::retryable("injected")));
            }
        }
        let mut sent = lock(&self.sent);
        for m in messages {
            sent.push(serde_json::to_value(m).map_err(WorkQueueError::Serialise)?);
        }
        Ok(())
    }
}
