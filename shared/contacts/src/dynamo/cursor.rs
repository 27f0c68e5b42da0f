//! Paging through an index: DynamoDB's LastEvaluatedKey, carried opaquely (the API
//! hands it out as base64url JSON and validates it before use).

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine as _;

use super::item::attr;

/// Key attributes a cursor may name (the table's and the indexes' keys).
const KEY_ATTRIBUTES: &[&str] =
    &[attr::CONTACT_ID, attr::SWEEP_STATE, attr::RECORDING_STATE, attr::RECORDING_CHECKED_AT];

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Cursor(BTreeMap<String, String>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("next is not a cursor this API handed out")]
pub struct InvalidCursor;

impl Cursor {
    pub(crate) fn from_key(key: &HashMap<String, AttributeValue>) -> Option<Self> {
        let map: BTreeMap<String, String> =
            key.iter().filter_map(|(k, v)| v.as_s().ok().map(|s| (k.clone(), s.clone()))).collect();
        (!map.is_empty()).then_some(Self(map))
    }

    pub(crate) fn to_key(&self) -> HashMap<String, AttributeValue> {
        self.0.iter().map(|(k, v)| (k.clone(), AttributeValue::S(v.clone()))).collect()
    }

    pub fn encode(&self) -> String {
        let json = serde_json::to_vec(&self.0).unwrap_or_default();
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
    }

    pub fn decode(text: &str) -> Result<Self, InvalidCursor> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text.trim()).map_err(|_| InvalidCursor)?;
        let map: BTreeMap<String, String> = serde_json::from_slice(&bytes).map_err(|_| InvalidCursor)?;
        let valid = !map.is_empty()
            && map.len() <= KEY_ATTRIBUTES.len()
            && map.iter().all(|(k, v)| KEY_ATTRIBUTES.contains(&k.as_str()) && !v.is_empty() && v.len() <= 64);
        if valid {
            Ok(Self(map))
        } else {
            Err(InvalidCursor)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_anything_else() {
        let key = HashMap::from([
            (attr::CONTACT_ID.to_owned(), AttributeValue::S("c1".into())),
            (attr::SWEEP_STATE.to_owned(), AttributeValue::S("INITIALISED".into())),
        ]);
        let cursor = Cursor::from_key(&key).unwrap();
        assert_eq!(Cursor::decode(&cursor.encode()), Ok(cursor.clone()));
        assert_eq!(cursor.to_key(), key);
        assert_eq!(Cursor::decode("not base64!"), Err(InvalidCursor));
        let foreign = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"password":"x"}"#);
        assert_eq!(Cursor::decode(&foreign), Err(InvalidCursor));
    }
}
