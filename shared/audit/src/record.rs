//! Audit records and their hash chain.
//!
//! A workflow's records form a chain in action order: record n stores `prev_hash`,
//! the `hash` of record n-1 (record 1: [`GENESIS`]), and its own `hash`, SHA-256
//! over the canonical JSON of its content and `prev_hash`. Changing any hashed field
//! of a stored record breaks its own hash; recomputing that hash to hide the change
//! breaks the next record's link. Only `recorded_at` and `correlation_id`
//! (operational, not part of what happened) are outside the hash.
//!
//! The chain is unkeyed, so on its own it only catches careless edits: someone
//! who can write the table could rewrite a record and every hash after it. Each
//! record's hash is therefore signed with the trail's KMS key (see
//! [`crate::signing`]), and a chain is checked against the workflow's own
//! sequence number, so records removed from the end are missed too.

use chrono::{DateTime, Utc};
use kit::Envelope;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::canonical;
use crate::messages::WorkflowAction;
use crate::signing::{RecordSignature, TrustedKey};
use crate::time::render;

/// `prev_hash` of a workflow's first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Version of the hashed serialisation: bump it, never change what 1 means.
const HASH_FORMAT: u32 = 1;

/// Namespace of dataset ids (UUID v5 of `{workflow_id}/{seq}`).
const DATASET_NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x5d1c_7e4a_0b8f_4c2e_9a31_6e0d_4b7f_2a19);

/// The seed's "dataset id": stable per (workflow, seq), so a redelivery computes the same.
pub fn dataset_id(workflow_id: &str, seq: u64) -> String {
    uuid::Uuid::new_v5(&DATASET_NAMESPACE, format!("{workflow_id}/{seq}").as_bytes()).to_string()
}

/// One accepted action, as stored: the full record with its searchable fields
/// (`scheme`, `workflow_id`, `step_id`, `actor`, `at`) as top-level attributes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub workflow_id: String,
    pub seq: u64,
    pub dataset_id: String,
    pub scheme: String,
    pub step_id: String,
    pub action: String,
    /// The action's owner (who took it).
    pub actor: String,
    pub actor_roles: Vec<String>,
    /// The workflow's requester.
    pub owner: String,
    pub approvers: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_state: Option<String>,
    pub to_state: String,
    /// When the action was accepted, rendered by [`render`].
    pub at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// What the action submitted, as canonical JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    pub event_id: String,
    pub prev_hash: String,
    pub hash: String,
    /// ARN of the KMS key that signed `hash` (outside the hash: it signs it).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub signing_key: String,
    /// The DER ECDSA signature over [`crate::signing::signing_input`] of `hash`, base64.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub signature: String,
    pub recorded_at: String,
    pub correlation_id: String,
}

impl AuditRecord {
    /// The record of `event`, linked to `prev_hash`.
    pub fn from_event(event: &Envelope<WorkflowAction>, prev_hash: &str, recorded_at: DateTime<Utc>) -> Self {
        let a = &event.payload;
        let mut record = Self {
            workflow_id: a.workflow_id.clone(),
            seq: a.seq,
            dataset_id: dataset_id(&a.workflow_id, a.seq),
            scheme: a.scheme.clone(),
            step_id: a.step_id.clone(),
            action: a.action.as_str().to_owned(),
            actor: a.actor.clone(),
            actor_roles: a.actor_roles.iter().map(|r| r.as_str().to_owned()).collect(),
            owner: a.owner.clone(),
            approvers: a.approvers.clone(),
            from_state: a.from_state.map(|s| s.as_str().to_owned()),
            to_state: a.to_state.as_str().to_owned(),
            at: render(a.at),
            title: a.title.clone(),
            comment: a.comment.clone(),
            data: a.data.as_ref().map(canonical::to_string),
            event_id: event.id.clone(),
            prev_hash: prev_hash.to_owned(),
            hash: String::new(),
            signing_key: String::new(),
            signature: String::new(),
            recorded_at: render(recorded_at),
            correlation_id: event.correlation_id.clone(),
        };
        record.hash = record.compute_hash();
        record
    }

    /// SHA-256 (hex) over the canonical JSON of every hashed field and `prev_hash`.
    pub fn compute_hash(&self) -> String {
        let content = json!({
            "v": HASH_FORMAT,
            "workflow_id": self.workflow_id,
            "seq": self.seq,
            "dataset_id": self.dataset_id,
            "scheme": self.scheme,
            "step_id": self.step_id,
            "action": self.action,
            "actor": self.actor,
            "actor_roles": self.actor_roles,
            "owner": self.owner,
            "approvers": self.approvers,
            "from_state": self.from_state,
            "to_state": self.to_state,
            "at": self.at,
            "title": self.title,
            "comment": self.comment,
            // Hashed as the stored string: never re-serialised.
            "data": self.data,
            "event_id": self.event_id,
            "prev_hash": self.prev_hash,
        });
        hex::encode(Sha256::digest(canonical::to_string(&content).as_bytes()))
    }

    /// Stores the trail key's signature over this record's hash.
    pub fn sign(&mut self, signature: RecordSignature) {
        self.signing_key = signature.key_arn;
        self.signature = signature.signature_b64;
    }

    /// The submitted data, parsed back (the API shows JSON, not a string).
    pub fn data_value(&self) -> Value {
        self.data.as_deref().and_then(|d| serde_json::from_str(d).ok()).unwrap_or(Value::Null)
    }
}

/// The result of checking a workflow's chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainCheck {
    pub workflow_id: String,
    pub records: usize,
    /// How many records the workflow's accepted actions call for (its `seq`).
    pub expected_records: u64,
    pub valid: bool,
    /// The first record (seq) that does not check out, or the first one missing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broken_at: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The last record's hash.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head_hash: Option<String>,
    /// The key every record must be signed with.
    pub signing_key: String,
}

/// Checks `records` (one workflow's, in seq order) against the workflow's
/// sequence number `workflow_seq` (`None`: there is no such workflow) and the
/// trail's key: seqs 1, 2, 3… without gaps, each hash recomputes, each
/// `prev_hash` is the previous record's hash, each hash is signed by `key`,
/// and there are exactly as many records as the workflow has actions.
pub fn verify_chain(
    workflow_id: &str,
    records: &[AuditRecord],
    workflow_seq: Option<u64>,
    key: &TrustedKey,
) -> ChainCheck {
    let expected = workflow_seq.unwrap_or(0);
    let check = ChainCheck {
        workflow_id: workflow_id.to_owned(),
        records: records.len(),
        expected_records: expected,
        valid: true,
        broken_at: None,
        reason: None,
        head_hash: records.last().map(|r| r.hash.clone()),
        signing_key: key.arn().to_owned(),
    };
    let mut prev_hash = GENESIS;
    for (i, record) in records.iter().enumerate() {
        let expected_seq = i as u64 + 1;
        let problem = if record.workflow_id != workflow_id {
            Some("belongs to another workflow".to_owned())
        } else if record.seq != expected_seq {
            Some(format!("record {expected_seq} is missing (found {} in its place)", record.seq))
        } else if record.prev_hash != prev_hash {
            Some("its prev_hash is not the previous record's hash".to_owned())
        } else if record.compute_hash() != record.hash {
            Some("its content does not match its hash".to_owned())
        } else if let Some(why) = key.problem(&record.hash, &record.signing_key, &record.signature) {
            Some(why.to_owned())
        } else if expected_seq > expected {
            Some(match workflow_seq {
                Some(seq) => format!("it is beyond the workflow's last action ({seq})"),
                None => "there is no such workflow".to_owned(),
            })
        } else {
            None
        };
        if let Some(reason) = problem {
            return broken(check, expected_seq, reason);
        }
        prev_hash = &record.hash;
    }
    let have = records.len() as u64;
    if have < expected {
        return broken(
            check,
            have + 1,
            format!(
                "records {} to {expected} are missing: the workflow is at action {expected} \
                 (not written yet if the action is recent, as the audit step retries for up to a day; else removed)",
                have + 1
            ),
        );
    }
    check
}

fn broken(mut check: ChainCheck, at: u64, reason: String) -> ChainCheck {
    check.valid = false;
    check.broken_at = Some(at);
    check.reason = Some(reason);
    check
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roles::Role;
    use crate::signing::test_key;
    use crate::workflow::{ActionKind, WorkflowState};

    fn event(seq: u64, data: Option<Value>) -> Envelope<WorkflowAction> {
        let action = WorkflowAction {
            workflow_id: "wf-1".into(),
            seq,
            scheme: "grants".into(),
            title: Some("Roof".into()),
            owner: "alice".into(),
            approvers: vec!["bob".into()],
            action: ActionKind::Save,
            actor: "alice".into(),
            actor_roles: vec![Role::Requester],
            from_state: (seq > 1).then_some(WorkflowState::Draft),
            to_state: WorkflowState::Draft,
            step_id: "draft".into(),
            at: "2024-06-01T12:00:00.5Z".parse().unwrap(),
            comment: None,
            data,
        };
        Envelope::new("wf-1", "corr", action).with_id(crate::messages::event_id("wf-1", seq))
    }

    fn chain(n: u64) -> Vec<AuditRecord> {
        let mut out: Vec<AuditRecord> = Vec::new();
        for seq in 1..=n {
            let prev = out.last().map_or(GENESIS.to_owned(), |r| r.hash.clone());
            let mut record = AuditRecord::from_event(&event(seq, Some(json!({"n": seq}))), &prev, Utc::now());
            record.sign(test_key::sign(&record.hash));
            out.push(record);
        }
        out
    }

    /// Checks `records` as the API does for a workflow at action `seq`.
    fn verify(records: &[AuditRecord], seq: u64) -> ChainCheck {
        verify_chain("wf-1", records, Some(seq), &test_key::trusted())
    }

    /// What an insider without the signing key can do after an edit: recompute
    /// every hash and link from `from` on (signatures cannot be recomputed).
    fn rehash_from(records: &mut [AuditRecord], from: usize) {
        for i in from..records.len() {
            if i > 0 {
                records[i].prev_hash = records[i - 1].hash.clone();
            }
            records[i].hash = records[i].compute_hash();
        }
    }

    #[test]
    fn the_same_event_always_hashes_the_same_and_recorded_at_is_outside_the_hash() {
        let a = AuditRecord::from_event(&event(1, Some(json!({"b": 1, "a": [true]}))), GENESIS, Utc::now());
        let b = AuditRecord::from_event(
            &event(1, Some(json!({"a": [true], "b": 1}))),
            GENESIS,
            "2030-01-01T00:00:00Z".parse().unwrap(),
        );
        assert_eq!(a.hash, b.hash);
        assert_eq!(a.dataset_id, dataset_id("wf-1", 1));
        assert_eq!(a.at, "2024-06-01T12:00:00.500000Z");
        assert_ne!(a.hash, AuditRecord::from_event(&event(1, None), GENESIS, Utc::now()).hash);
    }

    #[test]
    fn an_intact_signed_chain_verifies() {
        let records = chain(4);
        let check = verify(&records, 4);
        assert!(check.valid, "{check:?}");
        assert_eq!((check.records, check.expected_records), (4, 4));
        assert_eq!(check.head_hash.as_deref(), Some(records[3].hash.as_str()));
        assert_eq!(check.signing_key, test_key::TEST_KEY_ARN);
        assert!(verify(&[], 0).valid, "a workflow with no action yet has no record");
    }

    #[test]
    fn a_changed_field_breaks_its_own_hash() {
        let mut records = chain(3);
        records[1].comment = Some("added later".into());
        let check = verify(&records, 3);
        assert_eq!(check.broken_at, Some(2));
        assert!(check.reason.unwrap().contains("does not match its hash"));
    }

    #[test]
    fn an_edit_with_every_hash_recomputed_fails_its_signature() {
        let mut records = chain(3);
        records[1].actor = "mallory".into();
        rehash_from(&mut records, 1);
        let check = verify(&records, 3);
        assert_eq!(check.broken_at, Some(2), "{check:?}");
        assert!(check.reason.unwrap().contains("signature does not verify"));
    }

    #[test]
    fn the_last_record_rewritten_and_rehashed_fails_its_signature() {
        let mut records = chain(3);
        records[2].comment = Some("rewritten".into());
        rehash_from(&mut records, 2);
        assert_eq!(verify(&records, 3).broken_at, Some(3));
    }

    #[test]
    fn an_added_record_is_unsigned_or_beyond_the_workflow() {
        let mut records = chain(3);
        let mut extra = AuditRecord::from_event(&event(4, None), &records[2].hash, Utc::now());
        assert_eq!(verify(&[records.clone(), vec![extra.clone()]].concat(), 3).broken_at, Some(4), "unsigned");
        // Even a record the writer did sign (replayed from elsewhere) cannot extend the workflow.
        extra.sign(test_key::sign(&extra.hash));
        records.push(extra);
        let check = verify(&records, 3);
        assert_eq!(check.broken_at, Some(4));
        assert!(check.reason.unwrap().contains("beyond the workflow's last action (3)"));
        let orphan = verify_chain("wf-1", &records[..1], None, &test_key::trusted());
        assert_eq!(orphan.reason.as_deref(), Some("there is no such workflow"));
    }

    #[test]
    fn a_removed_record_is_a_gap() {
        let mut records = chain(3);
        records.remove(1);
        let check = verify(&records, 3);
        assert_eq!(check.broken_at, Some(2));
        assert!(check.reason.unwrap().contains("missing"));
    }

    #[test]
    fn a_removed_record_with_the_rest_renumbered_fails_signatures() {
        let mut records = chain(3);
        records.remove(1);
        records[1].seq = 2;
        rehash_from(&mut records, 1);
        let check = verify(&records, 3);
        assert_eq!(check.broken_at, Some(2), "{check:?}");
    }

    #[test]
    fn reordered_records_break_the_chain() {
        let mut records = chain(3);
        records.swap(1, 2);
        assert_eq!(verify(&records, 3).broken_at, Some(2));
        // Swapping the contents but keeping the keys: the links and signatures give it away.
        let mut records = chain(3);
        let (a, b) = (records[1].clone(), records[2].clone());
        records[1] = AuditRecord { seq: 2, ..b };
        records[2] = AuditRecord { seq: 3, ..a };
        assert_eq!(verify(&records, 3).broken_at, Some(2));
    }

    #[test]
    fn truncation_is_caught_by_the_workflows_sequence_number() {
        let records = chain(4);
        let check = verify(&records[..2], 4);
        assert!(!check.valid);
        assert_eq!(check.broken_at, Some(3));
        assert!(check.reason.unwrap().starts_with("records 3 to 4 are missing"), "{:?}", verify(&records[..2], 4));
        assert!(!verify(&[], 4).valid, "every record removed");
    }

    #[test]
    fn a_record_signed_by_another_key_is_refused() {
        let mut records = chain(2);
        let forger = p256::ecdsa::SigningKey::from_bytes(&[3u8; 32].into()).unwrap();
        let forged = test_key::sign_with(&forger, "arn:aws:kms:eu-west-2:123456789012:key/mallory", &records[1].hash);
        records[1].sign(forged);
        assert!(verify(&records, 2).reason.unwrap().contains("not the trail's"));
    }

    #[test]
    fn tampered_data_is_caught_even_if_it_is_the_same_json_reordered() {
        let mut records = chain(2);
        records[0].data = Some(r#"{ "n": 1 }"#.into());
        assert_eq!(verify(&records, 2).broken_at, Some(1), "the stored string is what is hashed");
    }
}
