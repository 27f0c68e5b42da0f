//! What AWS IoT Core sends a custom authorizer, and what it expects back
//! (developer guide, "Defining your Lambda function").

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The authorizer's event. Only the fields this authorizer reads are typed;
/// IoT leaves out whatever does not apply to the connection.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizerEvent {
    #[serde(default)]
    pub protocol_data: ProtocolData,
    #[serde(default)]
    pub connection_metadata: ConnectionMetadata,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ProtocolData {
    #[serde(default)]
    pub mqtt: Option<MqttData>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MqttData {
    /// The CONNECT packet's password, base64-encoded by IoT Core. (The client id
    /// is IoT's to check, against the policy's `iot:Connect` resources.)
    #[serde(default)]
    pub password: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ConnectionMetadata {
    #[serde(default)]
    pub id: Option<String>,
}

/// The answer: whether the connection is authenticated, who it is (in IoT's
/// logs), the IoT policies that decide each CONNECT, SUBSCRIBE, RECEIVE and
/// PUBLISH on it, and how long IoT may keep the connection and cache them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizerResponse {
    pub is_authenticated: bool,
    /// `[a-zA-Z0-9]{1,128}`.
    pub principal_id: String,
    /// At most 10 documents of at most 2,048 characters each.
    pub policy_documents: Vec<Value>,
    /// 300 to 86,400.
    pub disconnect_after_in_seconds: u32,
    /// 300 to 86,400.
    pub refresh_after_in_seconds: u32,
}
