//! In-memory ports with the DynamoDB adapters' conditional semantics, for unit
//! tests of the use cases and the functions' handlers.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;

use crate::cursor::{AuditCursor, NotificationCursor};
use crate::notification::Notification;
use crate::ports::*;
use crate::record::AuditRecord;
use crate::workflow::Workflow;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[derive(Default)]
pub struct MemoryWorkflows {
    items: Mutex<HashMap<String, Workflow>>,
    /// `mark_announced` calls still to fail.
    pub fail_marks: Mutex<u32>,
}

impl MemoryWorkflows {
    pub fn workflow(&self, id: &str) -> Option<Workflow> {
        lock(&self.items).get(id).cloned()
    }

    /// Stores `wf` as it is (tests: a state a crash left behind).
    pub fn put(&self, wf: Workflow) {
        lock(&self.items).insert(wf.workflow_id.clone(), wf);
    }
}

/// A REQUESTED workflow whose action `seq` was accepted and never announced.
pub fn unannounced(workflow_id: &str, seq: u64) -> Workflow {
    use crate::messages::{event_id, WorkflowAction};
    use crate::roles::Role;
    use crate::workflow::{ActionKind, WorkflowState};
    let at: chrono::DateTime<chrono::Utc> = "2024-06-01T12:05:00Z".parse().unwrap_or_default();
    let action = WorkflowAction {
        workflow_id: workflow_id.to_owned(),
        seq,
        scheme: "grants".into(),
        title: None,
        owner: "requester-1".into(),
        approvers: vec!["approver-1".into()],
        action: ActionKind::Request,
        actor: "requester-1".into(),
        actor_roles: vec![Role::Requester],
        from_state: Some(WorkflowState::Draft),
        to_state: WorkflowState::Requested,
        step_id: "draft".into(),
        at,
        comment: None,
        data: None,
    };
    Workflow {
        workflow_id: workflow_id.to_owned(),
        scheme: "grants".into(),
        title: None,
        owner: "requester-1".into(),
        approvers: vec!["approver-1".into()],
        state: WorkflowState::Requested,
        data: None,
        seq,
        announced_seq: seq - 1,
        last_event: Some(kit::Envelope::new(workflow_id, "req-2", action).with_id(event_id(workflow_id, seq))),
        created_at: at,
        updated_at: at,
        redrives: Vec::new(),
    }
}

#[async_trait]
impl WorkflowStore for MemoryWorkflows {
    async fn get(&self, workflow_id: &str) -> Result<Option<Workflow>, StoreError> {
        Ok(self.workflow(workflow_id))
    }
    async fn create(&self, workflow: &Workflow) -> Result<bool, StoreError> {
        let mut items = lock(&self.items);
        if items.contains_key(&workflow.workflow_id) {
            return Ok(false);
        }
        items.insert(workflow.workflow_id.clone(), workflow.clone());
        Ok(true)
    }
    async fn apply(&self, expected: &Workflow, next: &Workflow) -> Result<bool, StoreError> {
        let mut items = lock(&self.items);
        match items.get(&expected.workflow_id) {
            Some(stored)
                if stored.state == expected.state
                    && stored.seq == expected.seq
                    && stored.announced_seq == expected.seq =>
            {
                let mut next = next.clone();
                next.announced_seq = stored.announced_seq;
                items.insert(next.workflow_id.clone(), next);
                Ok(true)
            }
            _ => Ok(false),
        }
    }
    async fn mark_announced(&self, workflow_id: &str, seq: u64) -> Result<(), StoreError> {
        {
            let mut fails = lock(&self.fail_marks);
            if *fails > 0 {
                *fails -= 1;
                return Err(StoreError::Sdk {
                    operation: "UpdateItem",
                    failure: kit::sdk::SdkFailure::retryable("injected"),
                });
            }
        }
        if let Some(wf) = lock(&self.items).get_mut(workflow_id) {
            wf.announced_seq = wf.announced_seq.max(seq);
        }
        Ok(())
    }
}

#[async_trait]
impl RedriveLog for MemoryWorkflows {
    async fn announced_by_redrive(
        &self,
        workflow_id: &str,
        seq: u64,
        redrive: &kit::redrive::Redrive,
    ) -> Result<bool, StoreError> {
        match lock(&self.items).get_mut(workflow_id) {
            Some(wf) if wf.announced_seq < seq => {
                wf.announced_seq = seq;
                wf.redrives.push(redrive.clone());
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}

/// The audit table: records by (workflow, seq).
#[derive(Default)]
pub struct MemoryAudit {
    records: Mutex<BTreeMap<(String, u64), AuditRecord>>,
}

impl MemoryAudit {
    pub fn all(&self) -> Vec<AuditRecord> {
        lock(&self.records).values().cloned().collect()
    }
    /// What a tamperer with table access could do.
    pub fn tamper(&self, workflow_id: &str, seq: u64, change: impl FnOnce(&mut AuditRecord)) {
        if let Some(r) = lock(&self.records).get_mut(&(workflow_id.to_owned(), seq)) {
            change(r);
        }
    }
}

#[async_trait]
impl AuditLog for MemoryAudit {
    async fn get(&self, workflow_id: &str, seq: u64) -> Result<Option<AuditRecord>, StoreError> {
        Ok(lock(&self.records).get(&(workflow_id.to_owned(), seq)).cloned())
    }
    async fn append(&self, record: &AuditRecord) -> Result<Appended, StoreError> {
        let mut records = lock(&self.records);
        let key = (record.workflow_id.clone(), record.seq);
        if let Some(existing) = records.get(&key) {
            return Ok(Appended::Exists(Box::new(existing.clone())));
        }
        records.insert(key, record.clone());
        Ok(Appended::Stored)
    }
}

/// Index order: (index key, at, workflow, seq), as the adapter's GSIs page.
fn index_position(r: &AuditRecord) -> (String, String, u64) {
    (r.at.clone(), r.workflow_id.clone(), r.seq)
}

#[async_trait]
impl AuditReader for MemoryAudit {
    async fn search(
        &self,
        query: &AuditQuery,
        limit: u32,
        after: Option<AuditCursor>,
    ) -> Result<AuditPage, StoreError> {
        let mut found: Vec<AuditRecord> = self
            .all()
            .into_iter()
            .filter(|r| match query {
                AuditQuery::Workflow { workflow_id } => r.workflow_id == *workflow_id,
                AuditQuery::Actor { actor } => r.actor == *actor,
                AuditQuery::Scheme { scheme, from, to } => r.scheme == *scheme && *from <= r.at && r.at <= *to,
            })
            .collect();
        let workflow_order = matches!(query, AuditQuery::Workflow { .. });
        if !workflow_order {
            found.sort_by_key(index_position);
        }
        if let Some(c) = after {
            let last = (c.at.clone().unwrap_or_default(), c.workflow_id.clone(), c.seq);
            found.retain(|r| if workflow_order { r.seq > c.seq } else { index_position(r) > last });
        }
        let more = found.len() > limit as usize;
        found.truncate(limit as usize);
        let next = match (more, found.last()) {
            (true, Some(r)) => Some(AuditCursor {
                workflow_id: r.workflow_id.clone(),
                seq: r.seq,
                index_key: match query {
                    AuditQuery::Workflow { .. } => None,
                    AuditQuery::Actor { .. } => Some(r.actor.clone()),
                    AuditQuery::Scheme { .. } => Some(r.scheme.clone()),
                },
                at: (!workflow_order).then(|| r.at.clone()),
            }),
            _ => None,
        };
        Ok(AuditPage { items: found, next })
    }
    async fn chain(&self, workflow_id: &str) -> Result<Vec<AuditRecord>, StoreError> {
        Ok(self.all().into_iter().filter(|r| r.workflow_id == workflow_id).collect())
    }
}

#[derive(Default)]
pub struct MemoryNotifications {
    items: Mutex<BTreeMap<(String, String), Notification>>,
}

impl MemoryNotifications {
    pub fn of(&self, user: &str) -> Vec<Notification> {
        lock(&self.items).values().filter(|n| n.user_id == user).cloned().collect()
    }
    pub fn all(&self) -> Vec<Notification> {
        lock(&self.items).values().cloned().collect()
    }
}

#[async_trait]
impl NotificationStore for MemoryNotifications {
    async fn put(&self, n: &Notification) -> Result<Option<Notification>, StoreError> {
        let mut items = lock(&self.items);
        let key = (n.user_id.clone(), n.notification_id.clone());
        if let Some(existing) = items.get(&key) {
            return Ok(Some(existing.clone()));
        }
        items.insert(key, n.clone());
        Ok(None)
    }
    async fn mark_published(&self, user_id: &str, notification_id: &str, at: &str) -> Result<(), StoreError> {
        if let Some(n) = lock(&self.items).get_mut(&(user_id.to_owned(), notification_id.to_owned())) {
            n.published_at.get_or_insert_with(|| at.to_owned());
        }
        Ok(())
    }
}

fn created_key(n: &Notification) -> String {
    format!("{}#{}", n.created_at, n.notification_id)
}

#[async_trait]
impl NotificationReader for MemoryNotifications {
    async fn list(
        &self,
        user_id: &str,
        limit: u32,
        after: Option<NotificationCursor>,
    ) -> Result<NotificationPage, StoreError> {
        let mut mine = self.of(user_id);
        mine.sort_by_key(|n| std::cmp::Reverse(created_key(n)));
        if let Some(c) = after {
            mine.retain(|n| created_key(n) < c.created_key);
        }
        let more = mine.len() > limit as usize;
        mine.truncate(limit as usize);
        let next = match (more, mine.last()) {
            (true, Some(n)) => {
                Some(NotificationCursor { notification_id: n.notification_id.clone(), created_key: created_key(n) })
            }
            _ => None,
        };
        Ok(NotificationPage { items: mine, next })
    }
    async fn unread_count(&self, user_id: &str) -> Result<u64, StoreError> {
        Ok(self.of(user_id).iter().filter(|n| !n.is_read()).count() as u64)
    }
    async fn mark_read(
        &self,
        user_id: &str,
        notification_id: &str,
        at: &str,
    ) -> Result<Option<Notification>, StoreError> {
        let mut items = lock(&self.items);
        Ok(items.get_mut(&(user_id.to_owned(), notification_id.to_owned())).map(|n| {
            n.read_at.get_or_insert_with(|| at.to_owned());
            n.clone()
        }))
    }
}

/// Records what was published per topic; can be told to fail.
#[derive(Default)]
pub struct RecordingChannel {
    published: Mutex<Vec<(String, serde_json::Value)>>,
    pub failures_left: Mutex<u32>,
}

impl RecordingChannel {
    pub fn published(&self) -> Vec<(String, serde_json::Value)> {
        lock(&self.published).clone()
    }
    pub fn fail_next(&self, n: u32) {
        *lock(&self.failures_left) = n;
    }
}

#[async_trait]
impl RealtimeChannel for RecordingChannel {
    async fn publish(&self, topic: &str, payload: Vec<u8>) -> Result<(), ChannelError> {
        {
            let mut left = lock(&self.failures_left);
            if *left > 0 {
                *left -= 1;
                return Err(ChannelError::Publish(kit::sdk::SdkFailure::retryable("injected")));
            }
        }
        let value = serde_json::from_slice(&payload).unwrap_or(serde_json::Value::Null);
        lock(&self.published).push((topic.to_owned(), value));
        Ok(())
    }
}

/// The trail's signing key in memory (a fixed P-256 key standing in for KMS):
/// signs like `create-audit-record` and hands verifiers the public key. Can be
/// told to fail the next signatures, as KMS would when throttled.
#[derive(Default)]
pub struct TestSigningKey {
    failures_left: Mutex<u32>,
}

impl TestSigningKey {
    pub fn fail_next(&self, n: u32) {
        *lock(&self.failures_left) = n;
    }
}

#[async_trait]
impl RecordSigner for TestSigningKey {
    async fn sign(&self, record_hash: &str) -> Result<crate::signing::RecordSignature, SigningError> {
        {
            let mut left = lock(&self.failures_left);
            if *left > 0 {
                *left -= 1;
                let failure = kit::sdk::SdkFailure::retryable("injected");
                return Err(SigningError::Kms { operation: "Sign", failure });
            }
        }
        Ok(crate::signing::test_key::sign(record_hash))
    }
}

#[async_trait]
impl TrustedKeySource for TestSigningKey {
    async fn trusted_key(&self) -> Result<crate::signing::TrustedKey, SigningError> {
        Ok(crate::signing::test_key::trusted())
    }
}
