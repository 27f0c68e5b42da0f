//! What the stack holds, read from the template it was deployed from: queue and
//! table names (the template names them from the stack name), which queue is which
//! queue's DLQ. No hand-kept list.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Context as _};
use local_stack::template::{types, Resolver, StackContext, Template};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueInfo {
    pub logical_id: String,
    pub name: String,
    /// Logical id of this queue's DLQ (its redrive target).
    pub dlq: Option<String>,
}

impl QueueInfo {
    pub fn is_fifo(&self) -> bool {
        self.name.ends_with(".fifo")
    }
}

#[derive(Debug, Clone, Default)]
pub struct StackMap {
    pub queues: BTreeMap<String, QueueInfo>,
    /// Logical id → table name.
    pub tables: BTreeMap<String, String>,
    /// Logical id → KMS alias name (`alias/...`), for keys ops reads.
    pub key_aliases: BTreeMap<String, String>,
    /// A function's names (logical id, `FunctionName`, binary) → the queue it consumes
    /// (the logical id of its SQS event source), so a step's name finds its DLQ.
    pub consumers: BTreeMap<String, String>,
    /// The stuck limits the `stuck-detector` runs with (its environment, as the
    /// template sets it with the parameters' defaults), so `ops stuck` judges alike.
    pub stuck_limits: std::collections::HashMap<String, String>,
}

/// The function whose environment holds the stuck limits.
pub const STUCK_DETECTOR: &str = "StuckDetector";

/// `!GetAtt X.Arn` in either long form.
fn get_att_target(value: &Value) -> Option<String> {
    match value.get("Fn::GetAtt")? {
        Value::Array(parts) => parts.first()?.as_str().map(str::to_owned),
        Value::String(s) => s.split('.').next().map(str::to_owned),
        _ => None,
    }
}

/// `!Ref X` (the key an alias targets).
fn ref_target(value: &Value) -> Option<String> {
    value.get("Ref")?.as_str().map(str::to_owned)
}

impl StackMap {
    pub fn load(template: &Path, stack_name: &str, region: &str) -> anyhow::Result<Self> {
        let t = Template::load(template).with_context(|| format!("reading {}", template.display()))?;
        Self::from_template(&t, stack_name, region)
    }

    pub fn from_template(t: &Template, stack_name: &str, region: &str) -> anyhow::Result<Self> {
        let resolver = Resolver::new(t, StackContext::new(stack_name, region), &BTreeMap::new())?;
        let name_of = |logical_id: &str, props: &Value, property: &str| -> anyhow::Result<String> {
            match props.get(property) {
                Some(v) => resolver
                    .resolve(v)?
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .with_context(|| format!("{logical_id}.{property} is not a string")),
                // CloudFormation would generate a name; ours are all named.
                None => bail!("{logical_id} has no {property}: ops needs named resources"),
            }
        };
        let mut map = StackMap::default();
        for r in t.resources_of(types::SQS_QUEUE).filter(|r| resolver.is_enabled(r)) {
            let dlq = r.properties.pointer("/RedrivePolicy/deadLetterTargetArn").and_then(get_att_target);
            let name = name_of(&r.logical_id, &r.properties, "QueueName")?;
            map.queues.insert(r.logical_id.clone(), QueueInfo { logical_id: r.logical_id.clone(), name, dlq });
        }
        for r in t.resources_of(types::DYNAMODB_TABLE).filter(|r| resolver.is_enabled(r)) {
            map.tables.insert(r.logical_id.clone(), name_of(&r.logical_id, &r.properties, "TableName")?);
        }
        for f in t.resources_of(types::SERVERLESS_FUNCTION).filter(|r| resolver.is_enabled(r)) {
            let props = t.function_properties(f);
            let events = props.get("Events").and_then(Value::as_object).into_iter().flatten();
            let Some(queue) = events
                .filter(|(_, e)| e.get("Type").and_then(Value::as_str) == Some("SQS"))
                .find_map(|(_, e)| e.pointer("/Properties/Queue").and_then(get_att_target))
            else {
                continue;
            };
            let mut names = vec![f.logical_id.clone()];
            names.extend(f.metadata.pointer("/BuildProperties/Binary").and_then(Value::as_str).map(str::to_owned));
            if let Some(v) = props.get("FunctionName") {
                names.extend(resolver.resolve(v)?.and_then(|v| v.as_str().map(str::to_owned)));
            }
            for name in names {
                map.consumers.insert(name, queue.clone());
            }
        }
        if let Some(f) = t.resources_of(types::SERVERLESS_FUNCTION).find(|f| f.logical_id == STUCK_DETECTOR) {
            let props = t.function_properties(f);
            for name in stuck::limits::vars::ALL {
                let Some(v) = props.pointer(&format!("/Environment/Variables/{name}")) else { continue };
                let text = match resolver.resolve(v)? {
                    Some(Value::String(s)) => s,
                    Some(other) => other.to_string(),
                    None => continue,
                };
                map.stuck_limits.insert(name.to_owned(), text);
            }
        }
        for r in t.resources_of("AWS::KMS::Alias").filter(|r| resolver.is_enabled(r)) {
            let Some(key) = r.properties.get("TargetKeyId").and_then(ref_target) else { continue };
            map.key_aliases.insert(key, name_of(&r.logical_id, &r.properties, "AliasName")?);
        }
        Ok(map)
    }

    /// A key's alias by the key's logical id.
    pub fn key_alias(&self, key_logical_id: &str) -> anyhow::Result<&str> {
        self.key_aliases
            .get(key_logical_id)
            .map(String::as_str)
            .with_context(|| format!("the template has no alias for the key {key_logical_id}"))
    }

    /// Every DLQ: each queue some queue redrives to.
    pub fn dlqs(&self) -> Vec<&QueueInfo> {
        let mut out: Vec<&QueueInfo> =
            self.queues.values().filter_map(|q| q.dlq.as_deref()).filter_map(|id| self.queues.get(id)).collect();
        out.sort_by(|a, b| a.logical_id.cmp(&b.logical_id));
        out.dedup();
        out
    }

    /// The queue whose redrive policy targets this DLQ.
    pub fn source_of(&self, dlq: &QueueInfo) -> Option<&QueueInfo> {
        self.queues.values().find(|q| q.dlq.as_deref() == Some(dlq.logical_id.as_str()))
    }

    /// By logical id, exact name, or a unique part of the name.
    pub fn find_queue(&self, query: &str) -> anyhow::Result<&QueueInfo> {
        if let Some(q) = self.queues.get(query) {
            return Ok(q);
        }
        if let Some(q) = self.queues.values().find(|q| q.name == query) {
            return Ok(q);
        }
        let matches: Vec<&QueueInfo> = self.queues.values().filter(|q| q.name.contains(query)).collect();
        match matches.as_slice() {
            [one] => Ok(one),
            [] => bail!("no queue of this stack matches {query:?}"),
            many => bail!(
                "{query:?} matches {} queues: {}",
                many.len(),
                many.iter().map(|q| q.name.as_str()).collect::<Vec<_>>().join(", ")
            ),
        }
    }

    /// A DLQ for `dlq show` and `dlq redrive`: the DLQ itself (logical id, name or a
    /// unique part of its name), or the DLQ of a queue or of the step consuming it
    /// (`create-zendesk-ticket` finds `…-create-zendesk-ticket-dlq`, `record-login`
    /// the DLQ of `login-events`).
    pub fn find_dlq(&self, query: &str) -> anyhow::Result<&QueueInfo> {
        let dlqs = self.dlqs();
        if let Some(q) = self.queues.get(query).or_else(|| self.queues.values().find(|q| q.name == query)) {
            return self.dlq_of(q);
        }
        if let Some(q) = self.consumers.get(query).and_then(|id| self.queues.get(id)) {
            return self.dlq_of(q);
        }
        let named: Vec<&QueueInfo> = dlqs.iter().copied().filter(|d| d.name.contains(query)).collect();
        if let [one] = named.as_slice() {
            return Ok(one);
        }
        let sources: Vec<&QueueInfo> = self.queues.values().filter(|q| q.name.contains(query)).collect();
        let mut found: Vec<&QueueInfo> = Vec::new();
        for q in sources {
            if let Ok(d) = self.dlq_of(q) {
                if !found.iter().any(|f| f.logical_id == d.logical_id) {
                    found.push(d);
                }
            }
        }
        match found.as_slice() {
            [one] => Ok(one),
            [] => bail!("no DLQ of this stack matches {query:?} (ops dlq list shows them)"),
            many => bail!(
                "{query:?} matches {} DLQs: {}",
                many.len(),
                many.iter().map(|q| q.name.as_str()).collect::<Vec<_>>().join(", ")
            ),
        }
    }

    /// The queue itself if it is a DLQ, else its redrive target.
    fn dlq_of(&self, q: &QueueInfo) -> anyhow::Result<&QueueInfo> {
        let is_dlq = self.queues.values().any(|source| source.dlq.as_deref() == Some(q.logical_id.as_str()));
        let id = if is_dlq { Some(q.logical_id.as_str()) } else { q.dlq.as_deref() };
        id.and_then(|id| self.queues.get(id)).with_context(|| format!("{} has no DLQ (no redrive policy)", q.name))
    }

    pub fn table(&self, logical_id: &str) -> anyhow::Result<&str> {
        self.tables
            .get(logical_id)
            .map(String::as_str)
            .with_context(|| format!("the template has no table {logical_id}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map() -> StackMap {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../infra/template.yaml");
        StackMap::load(&path, "prod", "eu-west-2").unwrap()
    }

    #[test]
    fn every_dlq_of_the_template_is_found_with_its_source() {
        let m = map();
        let dlqs = m.dlqs();
        assert!(dlqs.iter().any(|q| q.name == "prod-login-events-dlq"));
        assert!(dlqs.iter().any(|q| q.name == "prod-create-zendesk-ticket-dlq"));
        assert!(dlqs.iter().all(|q| q.name.contains("dlq")), "{dlqs:?}");
        for d in dlqs {
            let source = m.source_of(d).unwrap_or_else(|| panic!("{} has no source", d.name));
            assert_ne!(source.logical_id, d.logical_id);
        }
    }

    #[test]
    fn queues_are_found_by_logical_id_name_or_unique_part() {
        let m = map();
        assert_eq!(m.find_queue("LoginEventsDlq").unwrap().name, "prod-login-events-dlq");
        assert_eq!(m.find_queue("prod-login-events").unwrap().logical_id, "LoginEventsQueue");
        assert_eq!(m.find_queue("zendesk-ticket-dlq").unwrap().logical_id, "CreateZendeskTicketDlq");
        assert!(m.find_queue("dlq").is_err(), "ambiguous");
        assert!(m.find_queue("nope").is_err());
        assert_eq!(m.table("ReportsTable").unwrap(), "prod-reports");
    }

    #[test]
    fn a_dlq_is_found_by_its_own_name_its_queues_or_its_steps() {
        let m = map();
        let dlq = |q: &str| m.find_dlq(q).map(|d| d.logical_id.clone()).unwrap_or_else(|e| panic!("{q}: {e}"));
        // The name of a step whose queue has the same name: its queue and its DLQ
        // both match, only one of them is a DLQ.
        assert!(m.find_queue("create-zendesk-ticket").is_err(), "ambiguous as a queue");
        assert_eq!(dlq("create-zendesk-ticket"), "CreateZendeskTicketDlq");
        assert_eq!(dlq("CreateZendeskTicketDlq"), "CreateZendeskTicketDlq");
        assert_eq!(dlq("prod-create-zendesk-ticket-dlq"), "CreateZendeskTicketDlq");
        // A step whose queue is named otherwise, by binary and by function name.
        assert_eq!(dlq("record-login"), "LoginEventsDlq");
        assert_eq!(dlq("prod-record-login"), "LoginEventsDlq");
        assert_eq!(dlq("RecordLogin"), "LoginEventsDlq");
        // A queue, by logical id or name: its DLQ.
        assert_eq!(dlq("LoginEventsQueue"), "LoginEventsDlq");
        assert_eq!(dlq("login-events"), "LoginEventsDlq");
        assert!(m.find_dlq("dlq").is_err(), "ambiguous");
        assert!(m.find_dlq("nope").unwrap_err().to_string().contains("ops dlq list"));
    }

    #[test]
    fn the_stuck_limits_are_the_detectors() {
        let m = map();
        assert_eq!(m.stuck_limits.get(stuck::limits::vars::REPORT_OPEN).map(String::as_str), Some("900"));
        assert_eq!(m.stuck_limits.get(stuck::limits::vars::ACTION_TIMEOUT).map(String::as_str), Some("300"));
        assert_eq!(m.stuck_limits.len(), stuck::limits::vars::ALL.len(), "{:?}", m.stuck_limits);
    }
}
