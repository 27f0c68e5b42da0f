//! The audit trail against an insider (seed 004, issue 17's threat model in
//! docs/decisions.md): someone who can write the audit table but holds neither
//! create-audit-record's role nor its signing key.
//!
//! 1. The table's and the key's policies refuse such a person every way of
//!    changing or removing a record, and every signature (IAM as the local
//!    stack enforces it from the template).
//! 2. Someone who gets around those policies anyway (an administrator who
//!    changes them) is still caught: each kind of tampering, done directly on
//!    the emulator's table, makes `GET /audit/verify` and `ops workflow` report
//!    the trail broken at the right record; undone, the trail verifies again.

use std::collections::HashMap;
use std::time::Duration;

use audit::AuditRecord;
use aws_sdk_dynamodb::types::AttributeValue;
use integration_tests::{eventually, Driver};
use local_stack::iam::evaluate::{Check, Decision};
use local_stack::iam::policy::parse_document;
use local_stack::iam::principals::Principal;
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(40);
const REQUESTER: &[&str] = &["requester"];
const APPROVER: &[&str] = &["approver"];
const AUDITOR: &[&str] = &["auditor"];

type Item = HashMap<String, AttributeValue>;

/// A workflow with four accepted actions (create, save, request, approve),
/// each audited; returns its id once the trail verifies.
async fn audited_workflow(d: &Driver, requester: &str, approver: &str, auditor: &str) -> String {
    let body = json!({"scheme": "grants", "title": "Roof", "approvers": [approver], "data": {"n": 1}});
    let (status, created) = d.call_as("POST", "/workflows", requester, REQUESTER, Some(&body)).await;
    assert_eq!(status, 201, "{created}");
    let id = created["workflow"]["workflow_id"].as_str().expect("id").to_owned();
    for (who, roles, action) in
        [(requester, REQUESTER, "save"), (requester, REQUESTER, "request"), (approver, APPROVER, "approve")]
    {
        let (status, body) =
            d.call_as("POST", &format!("/workflows/{id}/actions"), who, roles, Some(&json!({"action": action}))).await;
        assert_eq!(status, 200, "{action}: {body}");
    }
    eventually("the trail of four records verifies", WAIT, || async {
        let check = verify(d, auditor, &id).await;
        (check["valid"] == json!(true) && check["records"] == json!(4)).then_some(())
    })
    .await;
    id
}

async fn verify(d: &Driver, auditor: &str, id: &str) -> Value {
    let (status, check) = d.call_as("GET", &format!("/audit/verify?workflow_id={id}"), auditor, AUDITOR, None).await;
    assert_eq!(status, 200, "{check}");
    check
}

/// The workflow's stored records, straight from the emulator (no IAM: the
/// insider who got around the policies).
async fn stored(d: &Driver, id: &str) -> Vec<Item> {
    let out = d
        .dynamodb()
        .query()
        .table_name(d.table("AuditTable"))
        .key_condition_expression("workflow_id = :w")
        .expression_attribute_values(":w", AttributeValue::S(id.to_owned()))
        .consistent_read(true)
        .send()
        .await
        .expect("query");
    out.items.unwrap_or_default()
}

fn record(item: &Item) -> AuditRecord {
    serde_dynamo::from_item(item.clone()).expect("a stored record")
}

async fn put(d: &Driver, record: &AuditRecord) {
    let item: Item = serde_dynamo::to_item(record).expect("item");
    d.dynamodb().put_item().table_name(d.table("AuditTable")).set_item(Some(item)).send().await.expect("put");
}

async fn delete(d: &Driver, id: &str, seq: u64) {
    d.dynamodb()
        .delete_item()
        .table_name(d.table("AuditTable"))
        .key("workflow_id", AttributeValue::S(id.to_owned()))
        .key("seq", AttributeValue::N(seq.to_string()))
        .send()
        .await
        .expect("delete");
}

/// Puts the original records back (and removes any added one).
async fn restore(d: &Driver, id: &str, originals: &[AuditRecord]) {
    for item in stored(d, id).await {
        let r = record(&item);
        if !originals.iter().any(|o| o.seq == r.seq) {
            delete(d, id, r.seq).await;
        }
    }
    for r in originals {
        put(d, r).await;
    }
}

/// `ops workflow`'s status line for the workflow.
async fn ops_status(d: &Driver, id: &str) -> String {
    let template = local_stack::find_workspace_root().join("infra/template.yaml");
    let ctx = d.stack().context();
    let map = ops::stack::StackMap::load(&template, &ctx.stack_name, &ctx.region).expect("stack map");
    let kms = aws_sdk_kms::Client::new(d.stack().sdk_config());
    let found = ops::find_workflow(&d.dynamodb(), &kms, &map, id).await.expect("ops workflow");
    found.iter().find(|t| t.system == "audited workflow").expect("the audited workflow").status.clone()
}

/// Recomputes every hash and link from record `from` on: all an insider
/// without the signing key can do to make an edit look consistent.
fn rehash_from(records: &mut [AuditRecord], from: usize) {
    for i in from..records.len() {
        if i > 0 {
            records[i].prev_hash = records[i - 1].hash.clone();
        }
        records[i].hash = records[i].compute_hash();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_tampering_fails_verification_and_ops_workflow_reports_it() {
    let d = Driver::start().await;
    let (requester, approver, auditor) = (d.unique_user(), d.unique_user(), d.unique_user());
    let id = audited_workflow(&d, &requester, &approver, &auditor).await;
    let mut originals: Vec<AuditRecord> = stored(&d, &id).await.iter().map(record).collect();
    originals.sort_by_key(|r| r.seq);
    assert!(originals.iter().all(|r| !r.signature.is_empty() && !r.signing_key.is_empty()), "every record is signed");
    let check = verify(&d, &auditor, &id).await;
    assert_eq!(check["signing_key"], json!(originals[0].signing_key), "signed by the trail's key: {check}");
    assert_eq!(check["expected_records"], json!(4));
    assert!(ops_status(&d, &id).await.contains("intact"));

    // (kind, what it does, the record verification must stop at, words of the reason)
    type Tamper = fn(&[AuditRecord]) -> (Vec<AuditRecord>, Vec<u64>);
    let kinds: [(&str, Tamper, u64, &str); 6] = [
        (
            "edit a record, rehash and relink the rest",
            |o| {
                let mut r = o.to_vec();
                r[1].actor = "mallory".into();
                rehash_from(&mut r, 1);
                (r, vec![])
            },
            2,
            "signature",
        ),
        (
            "rewrite the newest record and rehash it",
            |o| {
                let mut r = o.to_vec();
                r[3].comment = Some("approved, no conditions".into());
                rehash_from(&mut r, 3);
                (r, vec![])
            },
            4,
            "signature",
        ),
        (
            "add a record after the last",
            |o| {
                let mut extra = o[3].clone();
                extra.seq = 5;
                extra.action = "approve".into();
                extra.prev_hash = o[3].hash.clone();
                extra.hash = extra.compute_hash();
                (vec![extra], vec![])
            },
            5,
            "",
        ),
        ("remove a record from the middle", |_| (vec![], vec![2]), 2, "missing"),
        (
            "reorder two records",
            |o| {
                let mut r = o.to_vec();
                let (a, b) = (r[1].clone(), r[2].clone());
                r[1] = AuditRecord { seq: 2, ..b };
                r[2] = AuditRecord { seq: 3, ..a };
                (r, vec![])
            },
            2,
            "",
        ),
        ("truncate the newest records", |_| (vec![], vec![3, 4]), 3, "missing"),
    ];
    for (kind, tamper, broken_at, words) in kinds {
        let (puts, deletes) = tamper(&originals);
        for r in &puts {
            put(&d, r).await;
        }
        for seq in deletes {
            delete(&d, &id, seq).await;
        }
        let check = verify(&d, &auditor, &id).await;
        assert_eq!(check["valid"], json!(false), "{kind}: {check}");
        assert_eq!(check["broken_at"], json!(broken_at), "{kind}: {check}");
        assert!(check["reason"].as_str().unwrap_or_default().contains(words), "{kind}: {check}");
        let status = ops_status(&d, &id).await;
        assert!(status.contains(&format!("CHAIN BROKEN at record {broken_at}")), "{kind}: ops says {status}");

        restore(&d, &id, &originals).await;
        assert_eq!(verify(&d, &auditor, &id).await["valid"], json!(true), "{kind}: undone, the trail verifies");
    }
}

fn principal(d: &Driver, logical_id: &str) -> Principal {
    let authorizer = d.stack().authorizer().expect("IAM is on");
    authorizer.principals().find(|p| p.logical_id == logical_id).unwrap_or_else(|| panic!("no {logical_id}")).clone()
}

fn decide(d: &Driver, who: &Principal, action: &str, resource: &str) -> Decision {
    d.stack().authorizer().expect("IAM is on").decide(who, &Check::new(action, resource))
}

fn arn(d: &Driver, logical_id: &str) -> String {
    d.stack().provisioned().get(logical_id).and_then(|r| r.arn.clone()).unwrap_or_else(|| panic!("{logical_id} ARN"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tables_and_the_key_refuse_an_insider_every_way_of_rewriting_the_trail() {
    let d = Driver::start().await;
    let (audit_table, workflows_table, key) =
        (arn(&d, "AuditTable"), arn(&d, "WorkflowsTable"), arn(&d, "AuditSigningKey"));
    // An operator whose own policies allow everything on DynamoDB and KMS.
    let mut insider = principal(&d, "WorkflowApi");
    insider.name = "insider".into();
    insider.role_arn = "arn:aws:iam::123456789012:role/insider".into();
    insider.session_arn = "arn:aws:sts::123456789012:assumed-role/insider/me".into();
    insider.statements = parse_document(
        "InsiderPolicy",
        &json!({"Statement": [{"Effect": "Allow", "Action": ["dynamodb:*", "kms:*"], "Resource": "*"}]}),
    )
    .expect("policy");
    let writer = principal(&d, "CreateAuditRecord");
    let api = principal(&d, "WorkflowApi");

    let every_change = [
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:BatchWriteItem",
        "dynamodb:PartiQLInsert",
        "dynamodb:PartiQLUpdate",
        "dynamodb:PartiQLDelete",
        "dynamodb:DeleteTable",
    ];
    for action in every_change {
        let decision = decide(&d, &insider, action, &audit_table);
        assert!(matches!(decision, Decision::ExplicitDeny { in_resource_policy: true, .. }), "{action}: {decision:?}");
        assert!(!decide(&d, &insider, action, &workflows_table).allowed(), "{action} on the workflows table");
        if action != "dynamodb:PutItem" {
            assert!(!decide(&d, &writer, action, &audit_table).allowed(), "the writer may not {action}");
        }
    }
    assert!(decide(&d, &insider, "dynamodb:Query", &audit_table).allowed(), "reading stays allowed");
    assert!(decide(&d, &writer, "dynamodb:PutItem", &audit_table).allowed(), "the writer appends");
    assert!(decide(&d, &api, "dynamodb:PutItem", &workflows_table).allowed(), "workflow-api writes its workflows");
    assert!(!decide(&d, &api, "dynamodb:PutItem", &audit_table).allowed(), "workflow-api cannot append");

    // Only the writer signs; verifiers read the public key.
    assert!(
        !decide(&d, &insider, "kms:Sign", &key).allowed(),
        "an identity policy cannot grant what the key withholds"
    );
    assert!(!decide(&d, &api, "kms:Sign", &key).allowed());
    assert!(decide(&d, &writer, "kms:Sign", &key).allowed());
    assert!(decide(&d, &api, "kms:GetPublicKey", &key).allowed());
    assert!(!decide(&d, &writer, "kms:GetPublicKey", &key).allowed(), "least privilege: the writer only signs");
}
