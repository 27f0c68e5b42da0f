//! Secrets Manager secrets (credentials functions read at start), created or
//! given a new value so that a second run against one emulator agrees.

use serde_json::json;

use super::raw::RawAws;
use super::ProvisionError;

/// CreateSecret, or PutSecretValue when the secret already exists.
pub async fn ensure_secret(raw: &RawAws, name: &str, value: &str) -> Result<(), ProvisionError> {
    let resource = format!("secret {name}");
    let create = json!({ "Name": name, "SecretString": value });
    let (status, text) = raw
        .json_call("secretsmanager", "secretsmanager.CreateSecret", &create)
        .await
        .map_err(ProvisionError::aws(&resource, "CreateSecret"))?;
    if status.is_success() {
        return Ok(());
    }
    if !text.contains("ResourceExistsException") {
        return Err(ProvisionError::invalid(&resource, format!("CreateSecret answered {status}: {text}")));
    }
    let put = json!({ "SecretId": name, "SecretString": value });
    let (status, text) = raw
        .json_call("secretsmanager", "secretsmanager.PutSecretValue", &put)
        .await
        .map_err(ProvisionError::aws(&resource, "PutSecretValue"))?;
    if !status.is_success() {
        return Err(ProvisionError::invalid(&resource, format!("PutSecretValue answered {status}: {text}")));
    }
    Ok(())
}
