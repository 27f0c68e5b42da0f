//! Every queue, DLQ and function of the template has its alarms, each alarm goes
//! to on-call and names a runbook that exists: nobody learns of a broken step from
//! a user.

use std::collections::BTreeSet;
use std::path::PathBuf;

use local_stack::template::{types, Template};
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

struct Alarm {
    id: String,
    metric: String,
    /// The logical ids its dimensions refer to.
    targets: BTreeSet<String>,
    description: String,
    actions: Value,
}

fn alarms(t: &Template) -> Vec<Alarm> {
    t.resources_of("AWS::CloudWatch::Alarm")
        .map(|r| {
            let mut targets = BTreeSet::new();
            for d in r.properties.get("Dimensions").and_then(Value::as_array).into_iter().flatten() {
                let v = d.get("Value").cloned().unwrap_or(Value::Null);
                if let Some(Value::String(id)) = v.get("Ref") {
                    targets.insert(id.clone());
                }
                if let Some(Value::Array(parts)) = v.get("Fn::GetAtt") {
                    if let Some(Value::String(id)) = parts.first() {
                        targets.insert(id.clone());
                    }
                }
            }
            Alarm {
                id: r.logical_id.clone(),
                metric: r.properties.get("MetricName").and_then(Value::as_str).unwrap_or_default().to_owned(),
                targets,
                description: r
                    .properties
                    .get("AlarmDescription")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                actions: r.properties.get("AlarmActions").cloned().unwrap_or(Value::Null),
            }
        })
        .collect()
}

fn has(alarms: &[Alarm], metric: &str, target: &str) -> bool {
    alarms.iter().any(|a| a.metric == metric && a.targets.contains(target))
}

#[test]
fn every_queue_dlq_and_function_is_alarmed_with_a_runbook() {
    let t = Template::load(&root().join("infra/template.yaml")).unwrap();
    let all = alarms(&t);
    let dlqs: BTreeSet<String> = t
        .resources_of(types::SQS_QUEUE)
        .filter_map(|q| q.properties.pointer("/RedrivePolicy/deadLetterTargetArn/Fn::GetAtt/0"))
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    let mut missing = Vec::new();
    for q in t.resources_of(types::SQS_QUEUE) {
        let id = &q.logical_id;
        if dlqs.contains(id) {
            if !has(&all, "ApproximateNumberOfMessagesVisible", id) {
                missing.push(format!("{id}: DLQ depth"));
            }
        } else if q.properties.get("RedrivePolicy").is_some() && !has(&all, "ApproximateAgeOfOldestMessage", id) {
            missing.push(format!("{id}: age of oldest message"));
        }
    }
    for f in t.resources_of(types::SERVERLESS_FUNCTION) {
        for metric in ["Errors", "Throttles"] {
            if !has(&all, metric, &f.logical_id) {
                missing.push(format!("{}: {metric}", f.logical_id));
            }
        }
    }
    assert!(
        all.iter().any(|a| a.metric == approvals::metrics::REQUESTS_UNDELIVERABLE),
        "no alarm on approval requests nobody can receive"
    );
    assert!(missing.is_empty(), "alarms missing:\n  {}", missing.join("\n  "));

    for a in &all {
        let runbook = a
            .description
            .split_whitespace()
            .find(|w| w.starts_with("docs/runbooks/"))
            .unwrap_or_else(|| panic!("{} names no runbook", a.id))
            .trim_end_matches(['.', ',', ')']);
        assert!(root().join(runbook).is_file(), "{}: runbook {runbook} does not exist", a.id);
        assert!(a.actions.to_string().contains("OnCallTopic"), "{} does not page on-call", a.id);
    }
}

/// Issue 15: one alarm per workflow kind on the stuck-detector's metric (dimension
/// `kind`), each paging with the stuck runbook, a dead detector paging too.
#[test]
fn every_workflow_kind_has_a_stuck_alarm_with_its_runbook() {
    let t = Template::load(&root().join("infra/template.yaml")).unwrap();
    let runbook = std::fs::read_to_string(root().join("docs/runbooks/stuck.md")).unwrap();
    for kind in stuck::Kind::ALL {
        let alarm = t
            .resources_of("AWS::CloudWatch::Alarm")
            .find(|r| {
                let p = &r.properties;
                p.get("MetricName").and_then(Value::as_str) == Some(stuck::metrics::STUCK_WORKFLOWS)
                    && p.get("Dimensions").and_then(Value::as_array).is_some_and(|dims| {
                        dims.iter().any(|d| d["Name"] == "kind" && d["Value"] == kind.as_str())
                            && dims.iter().any(|d| d["Name"] == "function" && d["Value"] == "stuck-detector")
                    })
            })
            .unwrap_or_else(|| panic!("no stuck alarm for kind {kind}"));
        let p = &alarm.properties;
        let description = p.get("AlarmDescription").and_then(Value::as_str).unwrap_or_default();
        assert!(description.contains("docs/runbooks/stuck.md"), "{}: {description}", alarm.logical_id);
        assert_eq!(p.get("TreatMissingData").and_then(Value::as_str), Some("breaching"), "{}", alarm.logical_id);
        assert!(p.get("AlarmActions").map(Value::to_string).unwrap_or_default().contains("OnCallTopic"));
        // The runbook covers the kind's states under its own heading.
        assert!(runbook.contains(&format!("`{}`", alarm.logical_id)), "the runbook names {}", alarm.logical_id);
        for state in stuck::StuckState::of(kind) {
            assert!(runbook.contains(state.as_str()), "the runbook explains {state}");
        }
    }
}

/// Whoever is paged for the processor's FIFO DLQ learns from the alarm itself how
/// the decisions get back: `ops dlq redrive` (group kept, fresh deduplication id;
/// it also works on the local emulator, which lacks StartMessageMoveTask).
#[test]
fn the_fifo_decisions_dlq_alarm_says_how_to_bring_the_decisions_back() {
    let t = Template::load(&root().join("infra/template.yaml")).unwrap();
    let all = alarms(&t);
    let alarm = all
        .iter()
        .find(|a| a.metric == "ApproximateNumberOfMessagesVisible" && a.targets.contains("ApprovalDecisionsDlq"))
        .expect("the FIFO decisions DLQ is alarmed");
    assert!(alarm.description.contains("`ops dlq redrive approval-decisions-dlq`"), "{}", alarm.description);
    assert!(alarm.description.contains("docs/runbooks/approvals.md"), "{}", alarm.description);
    let runbook = std::fs::read_to_string(root().join("docs/runbooks/approvals.md")).unwrap();
    assert!(runbook.contains("ops dlq redrive approval-decisions-dlq"), "the runbook names the command");
}

/// When an age-of-oldest-message alarm fires, counted from the message's arrival:
/// a datapoint breaches once the age passes `Threshold`, and the alarm needs
/// `DatapointsToAlarm` (default `EvaluationPeriods`) breaching periods in a row.
fn age_alarm_fires_after_seconds(props: &Value) -> u64 {
    let num = |key: &str| props.get(key).and_then(Value::as_u64);
    let threshold = props.get("Threshold").and_then(Value::as_f64).expect("Threshold") as u64;
    let period = num("Period").expect("Period");
    let datapoints = num("DatapointsToAlarm").or_else(|| num("EvaluationPeriods")).expect("EvaluationPeriods");
    threshold + datapoints * period
}

/// "more than N minutes" in a description, as seconds.
fn minutes_named(description: &str) -> Option<u64> {
    let words: Vec<&str> = description.split_whitespace().collect();
    words.windows(2).find(|w| w[1].starts_with("minute")).and_then(|w| w[0].parse::<u64>().ok()).map(|m| m * 60)
}

/// On call is told the processor is not consuming when decisions have waited as
/// long as the alarm's description (and its runbook) say: not twice as long.
#[test]
fn the_fifo_decisions_age_alarm_fires_when_its_description_says() {
    let t = Template::load(&root().join("infra/template.yaml")).unwrap();
    let alarm = t
        .resources_of("AWS::CloudWatch::Alarm")
        .find(|r| {
            r.properties.get("MetricName").and_then(Value::as_str) == Some("ApproximateAgeOfOldestMessage")
                && r.properties.to_string().contains("ApprovalDecisionsQueue")
        })
        .expect("the FIFO decisions queue has an age alarm");
    let description = alarm.properties.get("AlarmDescription").and_then(Value::as_str).unwrap_or_default();
    let said = minutes_named(description).unwrap_or_else(|| panic!("no minutes in: {description}"));
    let fires = age_alarm_fires_after_seconds(&alarm.properties);
    assert_eq!(fires, said, "{}: fires after {fires} s, says {said} s: {description}", alarm.logical_id);
    let runbook = std::fs::read_to_string(root().join("docs/runbooks/approvals.md")).unwrap();
    assert!(runbook.contains(&format!("older than {} minutes", said / 60)), "the runbook says the same");
}

/// Issue 16: Connect writes flow logs only while a flow's logging is on, so calls
/// can go unwatched with nothing failing; an alarm pages when the subscription has
/// delivered nothing for the configured time in business hours, with its runbook.
#[test]
fn silent_flow_logs_page_on_call_in_business_hours() {
    let t = Template::load(&root().join("infra/template.yaml")).unwrap();
    let all = alarms(&t);
    let alarm = all.iter().find(|a| a.metric == "FlowLogsSilent").expect("an alarm on FlowLogsSilent");
    assert!(alarm.description.contains("docs/runbooks/flow-logs-silent.md"), "{}", alarm.description);
    assert!(alarm.actions.to_string().contains("OnCallTopic"));
    // The watch runs in business hours only, in the business's time zone, on the parameters.
    let sweep = t.resources_of(types::SERVERLESS_FUNCTION).find(|f| f.logical_id == "RecordingSweep").expect("sweep");
    let watch = sweep.properties.pointer("/Events/FlowLogsWatch/Properties").expect("the watch's schedule");
    assert_eq!(watch.pointer("/ScheduleExpression/Ref").and_then(Value::as_str), Some("FlowLogsWatchSchedule"));
    assert_eq!(watch.pointer("/ScheduleExpressionTimezone/Ref").and_then(Value::as_str), Some("FlowLogsWatchTimezone"));
    assert_eq!(
        sweep.properties.pointer("/Environment/Variables/FLOW_LOGS_SILENCE_SECONDS/Ref").and_then(Value::as_str),
        Some("FlowLogsSilenceSeconds")
    );
}
