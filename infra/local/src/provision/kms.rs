//! KMS keys that functions use (signing keys) exist on the emulator; keys that
//! only encrypt queues and topics are facts alone (see `kms_key_facts`), as the
//! emulator encrypts nothing.
//!
//! The emulator picks a key's id, so each created key gets a bookkeeping alias
//! (`alias/local/{stack}-{LogicalId}`): provisioning again against the same
//! emulator finds the key instead of creating a second one.

use serde_json::{json, Value};

use super::raw::RawAws;
use super::{PhysicalResource, ProvisionError};
use crate::template::{types, ResourceFacts, StackContext};

/// Whether the key is one the emulator must hold (functions sign with it).
pub fn is_emulated(props: &Value) -> bool {
    props.get("KeyUsage").and_then(Value::as_str) == Some("SIGN_VERIFY")
}

/// Attribute marking a key that exists on the emulator (aliases can target it).
pub const ON_EMULATOR: &str = "LocalOnEmulator";

async fn call(raw: &RawAws, id: &str, op: &'static str, body: Value) -> Result<Option<Value>, ProvisionError> {
    let (status, text) =
        raw.json_call("kms", &format!("TrentService.{op}"), &body).await.map_err(ProvisionError::aws(id, op))?;
    if status.is_success() {
        return Ok(Some(serde_json::from_str(&text).unwrap_or(Value::Null)));
    }
    if text.contains("NotFoundException") {
        return Ok(None);
    }
    Err(ProvisionError::invalid(id, format!("KMS {op} answered {status}: {text}")))
}

/// Finds the key by its bookkeeping alias, or creates it with the template's
/// key spec and usage.
pub async fn ensure_key(
    raw: &RawAws,
    id: &str,
    props: &Value,
    ctx: &StackContext,
) -> Result<PhysicalResource, ProvisionError> {
    let alias = format!("alias/local/{}-{id}", ctx.stack_name);
    let metadata = match call(raw, id, "DescribeKey", json!({"KeyId": alias})).await? {
        Some(found) => found,
        None => {
            let spec = props.get("KeySpec").and_then(Value::as_str).unwrap_or("SYMMETRIC_DEFAULT");
            let usage = props.get("KeyUsage").and_then(Value::as_str).unwrap_or("ENCRYPT_DECRYPT");
            let created = call(raw, id, "CreateKey", json!({"KeySpec": spec, "KeyUsage": usage, "Description": id}))
                .await?
                .ok_or_else(|| ProvisionError::invalid(id, "CreateKey answered not found"))?;
            let key_id = created.pointer("/KeyMetadata/KeyId").and_then(Value::as_str).unwrap_or_default();
            call(raw, id, "CreateAlias", json!({"AliasName": alias, "TargetKeyId": key_id})).await?;
            created
        }
    };
    let text = |p: &str| metadata.pointer(p).and_then(Value::as_str).map(str::to_owned);
    let (Some(key_id), Some(arn)) = (text("/KeyMetadata/KeyId"), text("/KeyMetadata/Arn")) else {
        return Err(ProvisionError::invalid(id, format!("KMS key metadata without KeyId/Arn: {metadata}")));
    };
    Ok(PhysicalResource {
        logical_id: id.to_owned(),
        kind: types::KMS_KEY.to_owned(),
        facts: ResourceFacts {
            reference: key_id.clone(),
            attributes: [
                ("Arn".to_owned(), arn.clone()),
                ("KeyId".to_owned(), key_id.clone()),
                (ON_EMULATOR.to_owned(), "true".to_owned()),
            ]
            .into(),
        },
        name: key_id,
        arn: Some(arn),
        url: None,
        stream_arn: None,
    })
}

/// An alias of a key on the emulator is created there (already there: fine);
/// of any other key, it is a fact only. `target_on_emulator`: whether the
/// alias's key exists on the emulator.
pub async fn ensure_alias(
    raw: &RawAws,
    id: &str,
    name: &str,
    target_key_id: &str,
    target_on_emulator: bool,
) -> Result<PhysicalResource, ProvisionError> {
    if target_on_emulator {
        let body = json!({"AliasName": name, "TargetKeyId": target_key_id});
        let (status, text) = raw
            .json_call("kms", "TrentService.CreateAlias", &body)
            .await
            .map_err(ProvisionError::aws(id, "CreateAlias"))?;
        if !status.is_success() && !text.contains("AlreadyExists") {
            return Err(ProvisionError::invalid(id, format!("KMS CreateAlias answered {status}: {text}")));
        }
    }
    Ok(PhysicalResource {
        logical_id: id.to_owned(),
        kind: types::KMS_ALIAS.to_owned(),
        facts: ResourceFacts { reference: name.to_owned(), attributes: Default::default() },
        name: name.to_owned(),
        arn: None,
        url: None,
        stream_arn: None,
    })
}
