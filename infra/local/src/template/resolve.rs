//! Intrinsic-function resolution: parameters, pseudo parameters, conditions,
//! and the Ref/GetAtt facts of resources that already exist locally.

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::references::{sub_pieces, SubPiece};
use super::{types, Resource, Template};

/// The moto default account: ARNs the emulator hands out carry it.
pub const LOCAL_ACCOUNT_ID: &str = "123456789012";

/// Pseudo-parameter values for one local stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackContext {
    pub stack_name: String,
    pub region: String,
    pub account_id: String,
    pub url_suffix: String,
    pub partition: String,
}

impl StackContext {
    pub fn new(stack_name: impl Into<String>, region: impl Into<String>) -> Self {
        Self {
            stack_name: stack_name.into(),
            region: region.into(),
            account_id: LOCAL_ACCOUNT_ID.to_owned(),
            url_suffix: "amazonaws.com".to_owned(),
            partition: "aws".to_owned(),
        }
    }
}

/// What `Ref` and `Fn::GetAtt` return for one resource.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceFacts {
    /// The value of `Ref`.
    pub reference: String,
    /// `Fn::GetAtt` attributes by name.
    pub attributes: BTreeMap<String, String>,
}

/// Why an expression could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error("unknown reference {0}")]
    UnknownReference(String),
    #[error("parameter {0} has no value (no Default and no override)")]
    MissingParameter(String),
    #[error("resource {0} is not created (its Condition is false)")]
    DisabledResource(String),
    #[error("resource {0} does not exist locally (not provisioned yet, or of a type the local stack skips)")]
    NotAvailable(String),
    #[error("resource {resource} has no attribute {attribute} locally")]
    UnknownAttribute { resource: String, attribute: String },
    #[error("unknown condition {0}")]
    UnknownCondition(String),
    #[error("{function}: {reason}")]
    BadArguments { function: &'static str, reason: String },
    #[error("intrinsic {0} is not supported locally")]
    Unsupported(String),
}

fn bad(function: &'static str, reason: impl Into<String>) -> ResolveError {
    ResolveError::BadArguments { function, reason: reason.into() }
}

/// Resolves intrinsic functions against one stack's parameters, conditions
/// and the resources provisioned so far.
#[derive(Debug, Clone)]
pub struct Resolver {
    ctx: StackContext,
    declared_params: BTreeSet<String>,
    params: BTreeMap<String, Value>,
    mappings: Map<String, Value>,
    conditions: BTreeMap<String, bool>,
    enabled: BTreeMap<String, bool>,
    facts: BTreeMap<String, ResourceFacts>,
}

impl Resolver {
    /// Builds a resolver: parameters take their overrides, else their defaults;
    /// every condition is evaluated once, here.
    pub fn new(
        template: &Template,
        ctx: StackContext,
        overrides: &BTreeMap<String, String>,
    ) -> Result<Self, ResolveError> {
        let mut params = BTreeMap::new();
        for (name, param) in &template.parameters {
            let raw = overrides.get(name).map(|v| Value::String(v.clone())).or_else(|| param.default.clone());
            if let Some(raw) = raw {
                params.insert(name.clone(), parameter_value(&param.kind, raw)?);
            }
        }
        let mut resolver = Self {
            ctx,
            declared_params: template.parameters.keys().cloned().collect(),
            params,
            mappings: template.mappings.clone(),
            conditions: BTreeMap::new(),
            enabled: BTreeMap::new(),
            facts: BTreeMap::new(),
        };
        let mut memo = BTreeMap::new();
        for name in template.conditions.keys() {
            resolver.condition_named(name, &template.conditions, &mut memo, &mut Vec::new())?;
        }
        resolver.conditions = memo;
        for resource in template.resources.values() {
            let enabled = match &resource.condition {
                Some(name) => resolver.condition(name)?,
                None => true,
            };
            resolver.enabled.insert(resource.logical_id.clone(), enabled);
            // SAM creates `{Function}Role` for a function without `Role`; policies
            // may name it (`!GetAtt XRole.Arn`), e.g. a key policy granting one function.
            if resource.kind == types::SERVERLESS_FUNCTION && resource.properties.get("Role").is_none() {
                let role = format!("{}-{}Role", resolver.ctx.stack_name, resource.logical_id);
                let arn = format!("arn:{}:iam::{}:role/{role}", resolver.ctx.partition, resolver.ctx.account_id);
                let facts = ResourceFacts { reference: role, attributes: [("Arn".to_owned(), arn)].into() };
                let role_id = format!("{}Role", resource.logical_id);
                resolver.enabled.insert(role_id.clone(), enabled);
                resolver.facts.insert(role_id, facts);
            }
        }
        Ok(resolver)
    }

    pub fn context(&self) -> &StackContext {
        &self.ctx
    }

    /// The value of a named condition.
    pub fn condition(&self, name: &str) -> Result<bool, ResolveError> {
        self.conditions.get(name).copied().ok_or_else(|| ResolveError::UnknownCondition(name.to_owned()))
    }

    /// Whether a resource exists in this stack (its Condition, if any, holds).
    pub fn is_enabled(&self, resource: &Resource) -> bool {
        self.enabled.get(&resource.logical_id).copied().unwrap_or(true)
    }

    /// Records what Ref/GetAtt return for a resource that now exists.
    pub fn set_facts(&mut self, logical_id: &str, facts: ResourceFacts) {
        self.facts.insert(logical_id.to_owned(), facts);
    }

    pub fn facts(&self, logical_id: &str) -> Option<&ResourceFacts> {
        self.facts.get(logical_id)
    }

    /// A parameter's resolved value, if it has one.
    pub fn parameter(&self, name: &str) -> Option<&Value> {
        self.params.get(name)
    }

    /// Resolves an expression. `None` means `AWS::NoValue`: the caller drops it.
    pub fn resolve(&self, value: &Value) -> Result<Option<Value>, ResolveError> {
        match value {
            Value::Object(map) if map.len() == 1 => {
                let Some((key, arg)) = map.iter().next() else {
                    return Ok(Some(value.clone()));
                };
                match key.as_str() {
                    "Ref" => self.reference(&self.required_string("Ref", arg)?),
                    "Fn::GetAtt" => self.get_att(arg).map(|s| Some(Value::String(s))),
                    "Fn::Sub" => self.sub(arg).map(|s| Some(Value::String(s))),
                    "Fn::Join" => self.join(arg).map(|s| Some(Value::String(s))),
                    "Fn::Select" => self.select(arg),
                    "Fn::Split" => self.split(arg).map(Some),
                    "Fn::If" => self.if_(arg),
                    "Fn::Equals" | "Fn::Not" | "Fn::And" | "Fn::Or" => {
                        let mut memo = self.conditions.clone();
                        self.condition_expr(value, &BTreeMap::new(), &mut memo, &mut Vec::new())
                            .map(|b| Some(Value::Bool(b)))
                    }
                    "Fn::FindInMap" => self.find_in_map(arg).map(Some),
                    "Fn::Base64" => {
                        let text = self.required_string("Fn::Base64", arg)?;
                        Ok(Some(Value::String(base64::engine::general_purpose::STANDARD.encode(text))))
                    }
                    "Fn::GetAZs" => Ok(Some(Value::Array(
                        ["a", "b", "c"].iter().map(|z| Value::String(format!("{}{z}", self.ctx.region))).collect(),
                    ))),
                    "Fn::ToJsonString" => {
                        let inner = self.required("Fn::ToJsonString", arg)?;
                        Ok(Some(Value::String(inner.to_string())))
                    }
                    "Fn::Length" => match self.required("Fn::Length", arg)? {
                        Value::Array(items) => Ok(Some(Value::from(items.len()))),
                        other => Err(bad("Fn::Length", format!("{other} is not a list"))),
                    },
                    other if other.starts_with("Fn::") => Err(ResolveError::Unsupported(other.to_owned())),
                    _ => self.resolve_object(map).map(Some),
                }
            }
            Value::Object(map) => self.resolve_object(map).map(Some),
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    if let Some(v) = self.resolve(item)? {
                        out.push(v);
                    }
                }
                Ok(Some(Value::Array(out)))
            }
            scalar => Ok(Some(scalar.clone())),
        }
    }

    /// Resolves an expression that must produce a value.
    pub fn required(&self, function: &'static str, value: &Value) -> Result<Value, ResolveError> {
        self.resolve(value)?.ok_or_else(|| bad(function, "AWS::NoValue is not allowed here"))
    }

    /// Resolves an expression that must produce a scalar, as a string.
    pub fn required_string(&self, function: &'static str, value: &Value) -> Result<String, ResolveError> {
        let resolved = self.required(function, value)?;
        scalar_string(&resolved).ok_or_else(|| bad(function, format!("{resolved} is not a scalar")))
    }

    fn resolve_object(&self, map: &Map<String, Value>) -> Result<Value, ResolveError> {
        let mut out = Map::new();
        for (key, value) in map {
            if let Some(v) = self.resolve(value)? {
                out.insert(key.clone(), v);
            }
        }
        Ok(Value::Object(out))
    }

    fn reference(&self, name: &str) -> Result<Option<Value>, ResolveError> {
        let ctx = &self.ctx;
        let pseudo = match name {
            "AWS::NoValue" => return Ok(None),
            "AWS::NotificationARNs" => return Ok(Some(Value::Array(Vec::new()))),
            "AWS::StackName" => Some(ctx.stack_name.clone()),
            "AWS::Region" => Some(ctx.region.clone()),
            "AWS::AccountId" => Some(ctx.account_id.clone()),
            "AWS::URLSuffix" => Some(ctx.url_suffix.clone()),
            "AWS::Partition" => Some(ctx.partition.clone()),
            "AWS::StackId" => Some(format!(
                "arn:{}:cloudformation:{}:{}:stack/{}/00000000-0000-0000-0000-000000000000",
                ctx.partition, ctx.region, ctx.account_id, ctx.stack_name
            )),
            _ => None,
        };
        if let Some(value) = pseudo {
            return Ok(Some(Value::String(value)));
        }
        if self.declared_params.contains(name) {
            return self
                .params
                .get(name)
                .cloned()
                .map(Some)
                .ok_or_else(|| ResolveError::MissingParameter(name.to_owned()));
        }
        self.resource_facts(name).map(|facts| Some(Value::String(facts.reference.clone())))
    }

    fn resource_facts(&self, name: &str) -> Result<&ResourceFacts, ResolveError> {
        match self.enabled.get(name) {
            None => Err(ResolveError::UnknownReference(name.to_owned())),
            Some(false) => Err(ResolveError::DisabledResource(name.to_owned())),
            Some(true) => self.facts.get(name).ok_or_else(|| ResolveError::NotAvailable(name.to_owned())),
        }
    }

    fn attribute(&self, resource: &str, attribute: &str) -> Result<String, ResolveError> {
        self.resource_facts(resource)?.attributes.get(attribute).cloned().ok_or_else(|| {
            ResolveError::UnknownAttribute { resource: resource.to_owned(), attribute: attribute.to_owned() }
        })
    }

    fn get_att(&self, arg: &Value) -> Result<String, ResolveError> {
        let args = match arg {
            Value::String(_) => super::yaml::get_att_args(arg.clone()).map_err(|e| bad("Fn::GetAtt", e.to_string()))?,
            other => other.clone(),
        };
        match args.as_array().map(Vec::as_slice) {
            Some([resource, attribute]) => {
                let resource = self.required_string("Fn::GetAtt", resource)?;
                let attribute = self.required_string("Fn::GetAtt", attribute)?;
                self.attribute(&resource, &attribute)
            }
            _ => Err(bad("Fn::GetAtt", format!("{arg} is not [Resource, Attribute]"))),
        }
    }

    fn sub(&self, arg: &Value) -> Result<String, ResolveError> {
        let (text, vars) = match arg {
            Value::String(text) => (text.as_str(), None),
            Value::Array(items) => match items.as_slice() {
                [Value::String(text), Value::Object(vars)] => (text.as_str(), Some(vars)),
                _ => return Err(bad("Fn::Sub", "expected a string or [string, map]")),
            },
            _ => return Err(bad("Fn::Sub", "expected a string or [string, map]")),
        };
        let mut out = String::with_capacity(text.len());
        for piece in sub_pieces(text)? {
            match piece {
                SubPiece::Literal(s) => out.push_str(&s),
                SubPiece::Variable(name) => {
                    if let Some(value) = vars.and_then(|v| v.get(&name)) {
                        out.push_str(&self.required_string("Fn::Sub", value)?);
                    } else if let Some((resource, attribute)) = name.split_once('.') {
                        out.push_str(&self.attribute(resource, attribute)?);
                    } else {
                        let value = self.reference(&name)?.ok_or_else(|| bad("Fn::Sub", "AWS::NoValue in a string"))?;
                        out.push_str(
                            &scalar_string(&value)
                                .ok_or_else(|| bad("Fn::Sub", format!("${{{name}}} is not a scalar")))?,
                        );
                    }
                }
            }
        }
        Ok(out)
    }

    fn list_args<'a>(&self, function: &'static str, arg: &'a Value, len: usize) -> Result<&'a [Value], ResolveError> {
        match arg.as_array() {
            Some(items) if items.len() == len => Ok(items.as_slice()),
            _ => Err(bad(function, format!("expected a list of {len} arguments"))),
        }
    }

    fn list_value(&self, function: &'static str, value: &Value) -> Result<Vec<Value>, ResolveError> {
        match self.required(function, value)? {
            Value::Array(items) => Ok(items),
            other => Err(bad(function, format!("{other} is not a list"))),
        }
    }

    fn join(&self, arg: &Value) -> Result<String, ResolveError> {
        let args = self.list_args("Fn::Join", arg, 2)?;
        let delimiter = self.required_string("Fn::Join", &args[0])?;
        let parts = self
            .list_value("Fn::Join", &args[1])?
            .iter()
            .map(|v| scalar_string(v).ok_or_else(|| bad("Fn::Join", format!("{v} is not a scalar"))))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(parts.join(&delimiter))
    }

    fn select(&self, arg: &Value) -> Result<Option<Value>, ResolveError> {
        let args = self.list_args("Fn::Select", arg, 2)?;
        let index: usize = self
            .required_string("Fn::Select", &args[0])?
            .parse()
            .map_err(|_| bad("Fn::Select", "index is not a non-negative integer"))?;
        let items = self.list_value("Fn::Select", &args[1])?;
        items.get(index).cloned().map(Some).ok_or_else(|| bad("Fn::Select", format!("index {index} out of range")))
    }

    fn split(&self, arg: &Value) -> Result<Value, ResolveError> {
        let args = self.list_args("Fn::Split", arg, 2)?;
        let delimiter = self.required_string("Fn::Split", &args[0])?;
        let source = self.required_string("Fn::Split", &args[1])?;
        if delimiter.is_empty() {
            return Err(bad("Fn::Split", "empty delimiter"));
        }
        Ok(Value::Array(source.split(delimiter.as_str()).map(|s| Value::String(s.to_owned())).collect()))
    }

    fn if_(&self, arg: &Value) -> Result<Option<Value>, ResolveError> {
        let args = self.list_args("Fn::If", arg, 3)?;
        let name = args[0].as_str().ok_or_else(|| bad("Fn::If", "the first argument must be a condition name"))?;
        if self.condition(name)? {
            self.resolve(&args[1])
        } else {
            self.resolve(&args[2])
        }
    }

    fn find_in_map(&self, arg: &Value) -> Result<Value, ResolveError> {
        let args = self.list_args("Fn::FindInMap", arg, 3)?;
        let map = self.required_string("Fn::FindInMap", &args[0])?;
        let top = self.required_string("Fn::FindInMap", &args[1])?;
        let second = self.required_string("Fn::FindInMap", &args[2])?;
        self.mappings
            .get(&map)
            .and_then(|m| m.get(&top))
            .and_then(|m| m.get(&second))
            .cloned()
            .ok_or_else(|| bad("Fn::FindInMap", format!("no {map}.{top}.{second}")))
    }

    fn condition_named(
        &self,
        name: &str,
        raw: &BTreeMap<String, Value>,
        memo: &mut BTreeMap<String, bool>,
        visiting: &mut Vec<String>,
    ) -> Result<bool, ResolveError> {
        if let Some(value) = memo.get(name) {
            return Ok(*value);
        }
        if visiting.iter().any(|v| v == name) {
            return Err(bad("Condition", format!("condition {name} refers to itself")));
        }
        let expr = raw.get(name).ok_or_else(|| ResolveError::UnknownCondition(name.to_owned()))?;
        visiting.push(name.to_owned());
        let value = self.condition_expr(expr, raw, memo, visiting)?;
        visiting.pop();
        memo.insert(name.to_owned(), value);
        Ok(value)
    }

    /// Evaluates a condition expression (`Fn::Equals`, `Fn::Not`, `Fn::And`,
    /// `Fn::Or`, `{Condition: Name}`, or a literal boolean).
    fn condition_expr(
        &self,
        expr: &Value,
        raw: &BTreeMap<String, Value>,
        memo: &mut BTreeMap<String, bool>,
        visiting: &mut Vec<String>,
    ) -> Result<bool, ResolveError> {
        let Some((key, arg)) = expr.as_object().filter(|m| m.len() == 1).and_then(|m| m.iter().next()) else {
            return match expr {
                Value::Bool(b) => Ok(*b),
                Value::String(s) if s == "true" || s == "false" => Ok(s == "true"),
                other => Err(bad("Condition", format!("{other} is not a condition"))),
            };
        };
        match key.as_str() {
            "Condition" => {
                let name = arg.as_str().ok_or_else(|| bad("Condition", "expected a condition name"))?;
                self.condition_named(name, raw, memo, visiting)
            }
            "Fn::Equals" => {
                let args = self.list_args("Fn::Equals", arg, 2)?;
                let a = self.required("Fn::Equals", &args[0])?;
                let b = self.required("Fn::Equals", &args[1])?;
                Ok(match (scalar_string(&a), scalar_string(&b)) {
                    (Some(a), Some(b)) => a == b,
                    _ => a == b,
                })
            }
            "Fn::Not" => {
                let args = self.list_args("Fn::Not", arg, 1)?;
                Ok(!self.condition_expr(&args[0], raw, memo, visiting)?)
            }
            "Fn::And" | "Fn::Or" => {
                let items = arg.as_array().ok_or_else(|| bad("Fn::And/Or", "expected a list of conditions"))?;
                let mut values = Vec::with_capacity(items.len());
                for item in items {
                    values.push(self.condition_expr(item, raw, memo, visiting)?);
                }
                Ok(if key == "Fn::And" { values.iter().all(|v| *v) } else { values.iter().any(|v| *v) })
            }
            other => Err(bad("Condition", format!("{other} is not a condition function"))),
        }
    }
}

/// Parameters are strings in CloudFormation; list types become lists of strings.
fn parameter_value(kind: &str, raw: Value) -> Result<Value, ResolveError> {
    let is_list = kind == "CommaDelimitedList" || kind.starts_with("List<");
    match raw {
        Value::Array(items) if is_list => {
            Ok(Value::Array(items.iter().filter_map(scalar_string).map(Value::String).collect()))
        }
        other => {
            let text = scalar_string(&other).ok_or_else(|| bad("Parameters", format!("{other} is not a scalar")))?;
            if is_list {
                Ok(Value::Array(text.split(',').map(|s| Value::String(s.trim().to_owned())).collect()))
            } else {
                Ok(Value::String(text))
            }
        }
    }
}

/// Strings, numbers and booleans as the string CloudFormation would use.
pub fn scalar_string(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::references::referenced_names;
    use super::*;
    use serde_json::json;

    const TEMPLATE: &str = r#"
Parameters:
  Email:
    Type: String
    Default: ""
  Count:
    Type: Number
    Default: 5
  Names:
    Type: CommaDelimitedList
    Default: "a,b"
  NoDefault:
    Type: String
Conditions:
  HasEmail: !Not [!Equals [!Ref Email, ""]]
  NoEmail: !Not [!Condition HasEmail]
  Both: !And [!Condition NoEmail, !Equals [!Ref Count, 5]]
Resources:
  Queue:
    Type: AWS::SQS::Queue
  Sub:
    Type: AWS::SNS::Subscription
    Condition: HasEmail
"#;

    fn resolver(overrides: &[(&str, &str)]) -> Resolver {
        let template = Template::parse(TEMPLATE).expect("template");
        let overrides = overrides.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let mut r = Resolver::new(&template, StackContext::new("stk", "eu-west-2"), &overrides).expect("resolver");
        r.set_facts(
            "Queue",
            ResourceFacts {
                reference: "http://q/123456789012/stk-q".into(),
                attributes: [
                    ("Arn".to_string(), "arn:aws:sqs:eu-west-2:123456789012:stk-q".to_string()),
                    ("QueueName".to_string(), "stk-q".to_string()),
                ]
                .into(),
            },
        );
        r
    }

    fn eval(r: &Resolver, yaml: &str) -> Result<Option<Value>, ResolveError> {
        let json = super::super::yaml::to_json(serde_yaml_ng::from_str(yaml).expect("yaml")).expect("json");
        r.resolve(&json)
    }

    #[test]
    fn conditions_are_evaluated_from_parameters() {
        let r = resolver(&[]);
        assert_eq!(r.condition("HasEmail"), Ok(false));
        assert_eq!(r.condition("NoEmail"), Ok(true));
        assert_eq!(r.condition("Both"), Ok(true));
        let r = resolver(&[("Email", "a@b.c")]);
        assert_eq!(r.condition("HasEmail"), Ok(true));
        assert_eq!(r.condition("Both"), Ok(false));
    }

    #[test]
    fn refs_resolve_parameters_pseudo_parameters_and_resources() {
        let r = resolver(&[]);
        assert_eq!(eval(&r, "!Ref Count"), Ok(Some(json!("5"))));
        assert_eq!(eval(&r, "!Ref Names"), Ok(Some(json!(["a", "b"]))));
        assert_eq!(eval(&r, "!Ref AWS::StackName"), Ok(Some(json!("stk"))));
        assert_eq!(eval(&r, "!Ref AWS::AccountId"), Ok(Some(json!("123456789012"))));
        assert_eq!(eval(&r, "!Ref Queue"), Ok(Some(json!("http://q/123456789012/stk-q"))));
        assert_eq!(eval(&r, "!GetAtt Queue.Arn"), Ok(Some(json!("arn:aws:sqs:eu-west-2:123456789012:stk-q"))));
        assert_eq!(eval(&r, "!GetAtt [Queue, QueueName]"), Ok(Some(json!("stk-q"))));
        assert_eq!(eval(&r, "!Ref AWS::NoValue"), Ok(None));
    }

    #[test]
    fn sub_handles_pseudo_params_attributes_maps_and_escapes() {
        let r = resolver(&[]);
        assert_eq!(
            eval(&r, r#"!Sub "${AWS::StackName}-${Queue.QueueName}-${AWS::Region}""#),
            Ok(Some(json!("stk-stk-q-eu-west-2")))
        );
        assert_eq!(
            eval(&r, r#"!Sub ["${X}/${Count}/${!Literal}", {X: !GetAtt Queue.Arn}]"#),
            Ok(Some(json!("arn:aws:sqs:eu-west-2:123456789012:stk-q/5/${Literal}")))
        );
    }

    #[test]
    fn list_functions_and_if() {
        let r = resolver(&[]);
        assert_eq!(eval(&r, r#"!Join ["-", [a, !Ref Count]]"#), Ok(Some(json!("a-5"))));
        assert_eq!(eval(&r, r#"!Select [1, !Split [",", "x,y,z"]]"#), Ok(Some(json!("y"))));
        assert_eq!(eval(&r, "!If [HasEmail, yes, no]"), Ok(Some(json!("no"))));
        assert_eq!(
            eval(&r, "{A: !If [HasEmail, x, !Ref AWS::NoValue], B: [1, !Ref AWS::NoValue]}"),
            Ok(Some(json!({"B": [1]})))
        );
    }

    #[test]
    fn unresolvable_references_are_errors_naming_them() {
        let r = resolver(&[]);
        assert_eq!(eval(&r, "!Ref Missing"), Err(ResolveError::UnknownReference("Missing".into())));
        assert_eq!(eval(&r, "!Ref NoDefault"), Err(ResolveError::MissingParameter("NoDefault".into())));
        assert_eq!(eval(&r, "!Ref Sub"), Err(ResolveError::DisabledResource("Sub".into())));
        assert_eq!(
            eval(&r, "!GetAtt Queue.Nope"),
            Err(ResolveError::UnknownAttribute { resource: "Queue".into(), attribute: "Nope".into() })
        );
    }

    #[test]
    fn references_are_collected_for_ordering() {
        let json = super::super::yaml::to_json(
            serde_yaml_ng::from_str(
                r#"{a: !Ref A, b: !GetAtt B.Arn, c: !Sub "${C}-${D.Arn}-${AWS::Region}", d: [!Ref E]}"#,
            )
            .expect("yaml"),
        )
        .expect("json");
        let names = referenced_names(&json);
        for n in ["A", "B", "C", "D", "E", "AWS::Region"] {
            assert!(names.contains(n), "{n} missing from {names:?}");
        }
    }
}
