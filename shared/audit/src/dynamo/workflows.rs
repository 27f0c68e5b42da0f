//! Workflow items. The item is the state machine: every change is one conditional
//! write guarded by the state, seq and announcement the caller read.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kit::Envelope;
use serde::{Deserialize, Serialize};

use super::keys::*;
use super::{condition_failed, malformed, n, s, sdk_err, Item};
use crate::messages::WorkflowAction;
use crate::ports::{RedriveLog, StoreError, WorkflowStore};
use crate::workflow::{Workflow, WorkflowState};

#[derive(Clone)]
pub struct DynamoWorkflows {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoWorkflows {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }
}

/// The stored shape: the last event as the JSON it is published as.
#[derive(Serialize, Deserialize)]
struct WorkflowItem {
    workflow_id: String,
    scheme: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    title: Option<String>,
    owner: String,
    approvers: Vec<String>,
    state: WorkflowState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    data: Option<String>,
    seq: u64,
    announced_seq: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_event: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    /// Present while `announced_seq < seq` (the sparse `announce-pending` index):
    /// an accepted action whose event is not yet published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    announce_pending: Option<String>,
    /// Epoch ms of that action (the index's range key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    announce_pending_since: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    redrives: Vec<kit::redrive::Redrive>,
}

fn to_item(wf: &Workflow) -> Result<Item, StoreError> {
    let last_event =
        wf.last_event.as_ref().map(serde_json::to_string).transpose().map_err(|e| malformed("workflow event", e))?;
    let item = WorkflowItem {
        workflow_id: wf.workflow_id.clone(),
        scheme: wf.scheme.clone(),
        title: wf.title.clone(),
        owner: wf.owner.clone(),
        approvers: wf.approvers.clone(),
        state: wf.state,
        data: wf.data.clone(),
        seq: wf.seq,
        announced_seq: wf.announced_seq,
        last_event,
        created_at: wf.created_at,
        updated_at: wf.updated_at,
        announce_pending: (!wf.is_announced()).then(|| ANNOUNCE_PENDING_VALUE.to_owned()),
        announce_pending_since: (!wf.is_announced()).then(|| wf.updated_at.timestamp_millis()),
        redrives: wf.redrives.clone(),
    };
    serde_dynamo::to_item(item).map_err(|e| malformed("workflow item", e))
}

fn from_item(item: Item) -> Result<Workflow, StoreError> {
    let w: WorkflowItem = serde_dynamo::from_item(item).map_err(|e| malformed("workflow item", e))?;
    let last_event = w
        .last_event
        .as_deref()
        .map(serde_json::from_str::<Envelope<WorkflowAction>>)
        .transpose()
        .map_err(|e| malformed("workflow event", e))?;
    Ok(Workflow {
        workflow_id: w.workflow_id,
        scheme: w.scheme,
        title: w.title,
        owner: w.owner,
        approvers: w.approvers,
        state: w.state,
        data: w.data,
        seq: w.seq,
        announced_seq: w.announced_seq,
        last_event,
        created_at: w.created_at,
        updated_at: w.updated_at,
        redrives: w.redrives,
    })
}

impl DynamoWorkflows {
    /// Workflows whose last action was accepted before `cutoff` and is still not
    /// announced, oldest first, at most `limit` (the sparse `announce-pending` index).
    pub async fn unannounced_before(&self, cutoff: DateTime<Utc>, limit: usize) -> Result<Vec<String>, StoreError> {
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(ANNOUNCE_PENDING_INDEX)
                .key_condition_expression("#pending = :pending AND #since < :cutoff")
                .expression_attribute_names("#pending", ANNOUNCE_PENDING)
                .expression_attribute_names("#since", ANNOUNCE_PENDING_SINCE)
                .expression_attribute_values(":pending", s(ANNOUNCE_PENDING_VALUE))
                .expression_attribute_values(":cutoff", n(cutoff.timestamp_millis()))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| sdk_err("Query", &e))?;
            for item in page.items() {
                if let Some(id) = item.get(WORKFLOW_ID).and_then(|v| v.as_s().ok()) {
                    out.push(id.clone());
                    if out.len() >= limit {
                        return Ok(out);
                    }
                }
            }
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(out),
            }
        }
    }
}

#[async_trait]
impl RedriveLog for DynamoWorkflows {
    async fn announced_by_redrive(
        &self,
        workflow_id: &str,
        seq: u64,
        redrive: &kit::redrive::Redrive,
    ) -> Result<bool, StoreError> {
        let entry = serde_dynamo::to_attribute_value(redrive).map_err(|e| malformed("redrive", e))?;
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(WORKFLOW_ID, s(workflow_id))
            .update_expression(
                "SET #ann = :seq, #rd = list_append(if_not_exists(#rd, :empty), :entry) REMOVE #pending, #since",
            )
            .condition_expression("attribute_exists(#id) AND #ann < :seq")
            .expression_attribute_names("#id", WORKFLOW_ID)
            .expression_attribute_names("#ann", ANNOUNCED_SEQ)
            .expression_attribute_names("#rd", REDRIVES)
            .expression_attribute_names("#pending", ANNOUNCE_PENDING)
            .expression_attribute_names("#since", ANNOUNCE_PENDING_SINCE)
            .expression_attribute_values(":seq", n(seq))
            .expression_attribute_values(":empty", aws_sdk_dynamodb::types::AttributeValue::L(Vec::new()))
            .expression_attribute_values(":entry", aws_sdk_dynamodb::types::AttributeValue::L(vec![entry]))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(err) if condition_failed(&err) => Ok(false),
            Err(err) => Err(sdk_err("UpdateItem", &err)),
        }
    }
}

#[async_trait]
impl WorkflowStore for DynamoWorkflows {
    async fn get(&self, workflow_id: &str) -> Result<Option<Workflow>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(WORKFLOW_ID, s(workflow_id))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_err("GetItem", &e))?;
        out.item.map(from_item).transpose()
    }

    async fn create(&self, workflow: &Workflow) -> Result<bool, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(workflow)?))
            .condition_expression("attribute_not_exists(#id)")
            .expression_attribute_names("#id", WORKFLOW_ID)
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(err) if condition_failed(&err) => Ok(false),
            Err(err) => Err(sdk_err("PutItem", &err)),
        }
    }

    async fn apply(&self, expected: &Workflow, next: &Workflow) -> Result<bool, StoreError> {
        let mut stored = next.clone();
        // Announced up to the previous action; this one's announcement comes after the publish.
        stored.announced_seq = expected.seq;
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(&stored)?))
            .condition_expression("#state = :from AND #seq = :seq AND #ann = :seq")
            .expression_attribute_names("#state", STATE)
            .expression_attribute_names("#seq", SEQ)
            .expression_attribute_names("#ann", ANNOUNCED_SEQ)
            .expression_attribute_values(":from", s(expected.state.as_str()))
            .expression_attribute_values(":seq", n(expected.seq))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(err) if condition_failed(&err) => Ok(false),
            Err(err) => Err(sdk_err("PutItem", &err)),
        }
    }

    async fn mark_announced(&self, workflow_id: &str, seq: u64) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(WORKFLOW_ID, s(workflow_id))
            .update_expression("SET #ann = :seq REMOVE #pending, #since")
            .condition_expression("attribute_exists(#id) AND #ann < :seq")
            .expression_attribute_names("#id", WORKFLOW_ID)
            .expression_attribute_names("#pending", ANNOUNCE_PENDING)
            .expression_attribute_names("#since", ANNOUNCE_PENDING_SINCE)
            .expression_attribute_names("#ann", ANNOUNCED_SEQ)
            .expression_attribute_values(":seq", n(seq))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // Already announced as far (a twin request did it).
            Err(err) if condition_failed(&err) => Ok(()),
            Err(err) => Err(sdk_err("UpdateItem", &err)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_round_trip_with_the_event_as_published() {
        let t: DateTime<Utc> = "2024-06-01T12:00:00.123456Z".parse().unwrap();
        let action = WorkflowAction {
            workflow_id: "wf".into(),
            seq: 1,
            scheme: "grants".into(),
            title: None,
            owner: "alice".into(),
            approvers: vec!["bob".into()],
            action: crate::workflow::ActionKind::Save,
            actor: "alice".into(),
            actor_roles: vec![crate::roles::Role::Requester],
            from_state: None,
            to_state: WorkflowState::Draft,
            step_id: "draft".into(),
            at: t,
            comment: None,
            data: Some(serde_json::json!({"a": 1.5})),
        };
        let wf = Workflow {
            workflow_id: "wf".into(),
            scheme: "grants".into(),
            title: Some("T".into()),
            owner: "alice".into(),
            approvers: vec!["bob".into()],
            state: WorkflowState::Draft,
            data: Some(r#"{"a":1.5}"#.into()),
            seq: 1,
            announced_seq: 0,
            last_event: Some(Envelope::new("wf", "c", action)),
            created_at: t,
            updated_at: t,
            redrives: Vec::new(),
        };
        let item = to_item(&wf).unwrap();
        assert_eq!(item[STATE].as_s().unwrap(), "DRAFT");
        assert_eq!(item[SEQ].as_n().unwrap(), "1");
        assert_eq!(item[ANNOUNCE_PENDING].as_s().unwrap(), ANNOUNCE_PENDING_VALUE, "not announced yet: indexed");
        let mut announced = wf.clone();
        announced.announced_seq = 1;
        assert!(!to_item(&announced).unwrap().contains_key(ANNOUNCE_PENDING), "announced: off the index");
        assert_eq!(from_item(item).unwrap(), wf);
    }
}
