//! SAM `Globals` merging: the resource's own value wins for scalars, maps are
//! merged key by key (recursively), and lists are concatenated (globals first).

use serde_json::Value;

/// Merges `global` under `local`.
pub fn merge(global: &Value, local: &Value) -> Value {
    match (global, local) {
        (Value::Object(g), Value::Object(l)) => {
            let mut out = g.clone();
            for (key, value) in l {
                let merged = match g.get(key) {
                    Some(existing) => merge(existing, value),
                    None => value.clone(),
                };
                out.insert(key.clone(), merged);
            }
            Value::Object(out)
        }
        (Value::Array(g), Value::Array(l)) => Value::Array(g.iter().chain(l.iter()).cloned().collect()),
        // Anything else (scalars, a type mismatch, no global): the function's value.
        (_, local) => local.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn function_values_win_and_maps_merge() {
        let global = json!({
            "Timeout": 10,
            "Environment": {"Variables": {"A": "global", "B": "global"}},
            "LoggingConfig": {"LogFormat": "JSON", "ApplicationLogLevel": "INFO"},
            "Layers": ["g"]
        });
        let local = json!({
            "Timeout": 3,
            "Environment": {"Variables": {"B": "local", "C": "local"}},
            "LoggingConfig": {"LogGroup": "grp"},
            "Layers": ["l"]
        });
        let merged = merge(&global, &local);
        assert_eq!(merged["Timeout"], json!(3));
        assert_eq!(merged["Environment"]["Variables"], json!({"A": "global", "B": "local", "C": "local"}));
        assert_eq!(
            merged["LoggingConfig"],
            json!({"LogFormat": "JSON", "ApplicationLogLevel": "INFO", "LogGroup": "grp"})
        );
        assert_eq!(merged["Layers"], json!(["g", "l"]));
    }
}
