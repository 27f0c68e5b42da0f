//! YAML → JSON with CloudFormation's short-form tags expanded to their long forms.
//!
//! CloudFormation treats `!Ref X` and `{"Ref": "X"}` as the same thing, so the
//! resolver only ever sees the long (JSON) form: one code path for both spellings.

use serde_json::{Map, Number, Value};
use serde_yaml_ng::Value as Yaml;

use super::TemplateError;

/// Short-form tags that become `Fn::<Tag>`.
const FN_TAGS: &[&str] = &[
    "Sub",
    "Join",
    "Select",
    "Split",
    "If",
    "Not",
    "Equals",
    "And",
    "Or",
    "FindInMap",
    "Base64",
    "GetAZs",
    "ImportValue",
    "Cidr",
    "Length",
    "ToJsonString",
];

/// Converts a parsed YAML document into JSON, expanding intrinsic tags.
pub fn to_json(yaml: Yaml) -> Result<Value, TemplateError> {
    match yaml {
        Yaml::Null => Ok(Value::Null),
        Yaml::Bool(b) => Ok(Value::Bool(b)),
        Yaml::Number(n) => Ok(Value::Number(number(&n)?)),
        Yaml::String(s) => Ok(Value::String(s)),
        Yaml::Sequence(items) => items.into_iter().map(to_json).collect::<Result<Vec<_>, _>>().map(Value::Array),
        Yaml::Mapping(mapping) => {
            let mut out = Map::new();
            for (key, value) in mapping {
                out.insert(key_string(key)?, to_json(value)?);
            }
            Ok(Value::Object(out))
        }
        Yaml::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let name = tag.trim_start_matches('!');
            let inner = to_json(tagged.value)?;
            expand_tag(name, inner)
        }
    }
}

fn expand_tag(name: &str, inner: Value) -> Result<Value, TemplateError> {
    let long = match name {
        "Ref" => "Ref".to_owned(),
        "Condition" => "Condition".to_owned(),
        "GetAtt" => return Ok(single("Fn::GetAtt", get_att_args(inner)?)),
        other if FN_TAGS.contains(&other) => format!("Fn::{other}"),
        other => return Err(TemplateError::UnknownTag(other.to_owned())),
    };
    Ok(single(&long, inner))
}

/// `!GetAtt A.B` is shorthand for `[A, B]`; only the first dot separates the
/// resource from the attribute (attributes such as `Endpoint.Address` keep theirs).
pub(crate) fn get_att_args(inner: Value) -> Result<Value, TemplateError> {
    match inner {
        Value::String(s) => match s.split_once('.') {
            Some((resource, attribute)) => {
                Ok(Value::Array(vec![Value::String(resource.to_owned()), Value::String(attribute.to_owned())]))
            }
            None => Err(TemplateError::BadGetAtt(s)),
        },
        Value::Array(items) if items.len() == 2 => Ok(Value::Array(items)),
        other => Err(TemplateError::BadGetAtt(other.to_string())),
    }
}

fn single(key: &str, value: Value) -> Value {
    let mut map = Map::new();
    map.insert(key.to_owned(), value);
    Value::Object(map)
}

fn number(n: &serde_yaml_ng::Number) -> Result<Number, TemplateError> {
    if let Some(i) = n.as_i64() {
        return Ok(Number::from(i));
    }
    if let Some(u) = n.as_u64() {
        return Ok(Number::from(u));
    }
    n.as_f64().and_then(Number::from_f64).ok_or_else(|| TemplateError::BadNumber(n.to_string()))
}

fn key_string(key: Yaml) -> Result<String, TemplateError> {
    match key {
        Yaml::String(s) => Ok(s),
        Yaml::Number(n) => Ok(n.to_string()),
        Yaml::Bool(b) => Ok(b.to_string()),
        other => Err(TemplateError::BadKey(format!("{other:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(text: &str) -> Value {
        let yaml: Yaml = serde_yaml_ng::from_str(text).expect("yaml");
        to_json(yaml).expect("json")
    }

    #[test]
    fn short_forms_become_long_forms() {
        let value = parse(
            r#"
a: !Ref Thing
b: !GetAtt Queue.Arn
c: !GetAtt [Queue, QueueName]
d: !Sub "${AWS::StackName}-x"
e: !Sub ["${A}-${B}", {A: !Ref P, B: b}]
f: !Not [!Equals [!Ref P, ""]]
g: !If [Cond, 1, 2]
h: !Join ["-", [a, b]]
i: !Select [0, !Split [",", "x,y"]]
"#,
        );
        assert_eq!(value["a"], json!({"Ref": "Thing"}));
        assert_eq!(value["b"], json!({"Fn::GetAtt": ["Queue", "Arn"]}));
        assert_eq!(value["c"], json!({"Fn::GetAtt": ["Queue", "QueueName"]}));
        assert_eq!(value["d"], json!({"Fn::Sub": "${AWS::StackName}-x"}));
        assert_eq!(value["e"], json!({"Fn::Sub": ["${A}-${B}", {"A": {"Ref": "P"}, "B": "b"}]}));
        assert_eq!(value["f"], json!({"Fn::Not": [{"Fn::Equals": [{"Ref": "P"}, ""]}]}));
        assert_eq!(value["g"], json!({"Fn::If": ["Cond", 1, 2]}));
        assert_eq!(value["h"], json!({"Fn::Join": ["-", ["a", "b"]]}));
        assert_eq!(value["i"], json!({"Fn::Select": [0, {"Fn::Split": [",", "x,y"]}]}));
    }

    #[test]
    fn unknown_tags_are_rejected() {
        let yaml: Yaml = serde_yaml_ng::from_str("a: !Bogus x").expect("yaml");
        assert!(matches!(to_json(yaml), Err(TemplateError::UnknownTag(t)) if t == "Bogus"));
    }
}
