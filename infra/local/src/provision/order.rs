//! Dependency order: a resource comes after every resource it refers to
//! (Ref, GetAtt, Sub, DependsOn), so a queue's DLQ exists before the queue.

use std::collections::{BTreeMap, BTreeSet};

use crate::template::{referenced_names, types, Resolver, Resource, Template};

use super::ProvisionError;

/// Enabled resources, each after its dependencies; ties broken by logical id
/// so runs are reproducible.
pub fn dependency_order<'t>(template: &'t Template, resolver: &Resolver) -> Result<Vec<&'t Resource>, ProvisionError> {
    let nodes: BTreeMap<&str, &Resource> =
        template.resources.values().filter(|r| resolver.is_enabled(r)).map(|r| (r.logical_id.as_str(), r)).collect();
    let mut deps: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (id, resource) in &nodes {
        let properties = if resource.kind == types::SERVERLESS_FUNCTION {
            template.function_properties(resource)
        } else {
            resource.properties.clone()
        };
        let mut names = referenced_names(&properties);
        names.extend(resource.depends_on.iter().cloned());
        let edges =
            names.iter().filter_map(|n| nodes.get_key_value(n.as_str()).map(|(k, _)| *k)).filter(|n| n != id).collect();
        deps.insert(id, edges);
    }
    let mut ordered = Vec::with_capacity(nodes.len());
    let mut done: BTreeSet<&str> = BTreeSet::new();
    while done.len() < nodes.len() {
        let ready: Vec<&str> = deps
            .iter()
            .filter(|(id, d)| !done.contains(*id) && d.iter().all(|x| done.contains(x)))
            .map(|(id, _)| *id)
            .collect();
        if ready.is_empty() {
            let stuck = deps.keys().filter(|id| !done.contains(*id)).map(|id| (*id).to_owned()).collect();
            return Err(ProvisionError::Cycle(stuck));
        }
        for id in ready {
            done.insert(id);
            if let Some(resource) = nodes.get(id) {
                ordered.push(*resource);
            }
        }
    }
    Ok(ordered)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::StackContext;

    #[test]
    fn dead_letter_queues_come_first_and_disabled_resources_are_skipped() {
        let template = Template::parse(
            r#"
Parameters:
  Email: {Type: String, Default: ""}
Conditions:
  HasEmail: !Not [!Equals [!Ref Email, ""]]
Resources:
  AQueue:
    Type: AWS::SQS::Queue
    Properties:
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt ZDlq.Arn
  ZDlq:
    Type: AWS::SQS::Queue
  Sub:
    Type: AWS::SNS::Subscription
    Condition: HasEmail
    Properties:
      TopicArn: !Ref Topic
  Topic:
    Type: AWS::SNS::Topic
    DependsOn: AQueue
"#,
        )
        .expect("template");
        let resolver =
            Resolver::new(&template, StackContext::new("s", "eu-west-2"), &Default::default()).expect("resolver");
        let order: Vec<_> =
            dependency_order(&template, &resolver).expect("order").iter().map(|r| r.logical_id.as_str()).collect();
        assert_eq!(order, ["ZDlq", "AQueue", "Topic"]);
    }
}
