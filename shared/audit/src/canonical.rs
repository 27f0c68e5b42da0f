//! Canonical JSON: object keys sorted, no whitespace. Two equal values always give
//! the same bytes, whatever order their keys arrived in, so hashes of stored JSON
//! can be recomputed after a round trip through SNS, SQS and DynamoDB.

use serde_json::Value;

pub fn to_string(value: &Value) -> String {
    let mut out = String::new();
    write(value, &mut out);
    out
}

fn write(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String((*key).clone()).to_string());
                out.push(':');
                if let Some(v) = map.get(*key) {
                    write(v, out);
                }
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(item, out);
            }
            out.push(']');
        }
        // Strings, numbers, booleans and null have one serde_json rendering.
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn key_order_and_whitespace_do_not_matter() {
        let a: Value = serde_json::from_str(r#"{ "b": [1, {"y": 2, "x": "é\n"}], "a": null }"#).unwrap();
        let b = json!({"a": null, "b": [1, {"x": "é\n", "y": 2}]});
        assert_eq!(to_string(&a), to_string(&b));
        assert_eq!(to_string(&a), r#"{"a":null,"b":[1,{"x":"é\n","y":2}]}"#);
        let again: Value = serde_json::from_str(&to_string(&a)).unwrap();
        assert_eq!(to_string(&again), to_string(&a), "stable through a round trip");
    }
}
