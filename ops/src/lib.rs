//! The `ops` tool as a library (the binary is a thin `main`; tests drive these).

pub mod cli;
pub mod dlq;
pub mod graph;
pub mod redact;
pub mod redrive;
pub mod sqs;
pub mod stack;
pub mod stuck;
pub mod systems;
pub mod workflow;

mod print;

use std::process::ExitCode;

use anyhow::Context as _;
use cli::{Cli, Command, DlqCommand, WorkflowArgs, WorkflowCommand};

/// Runs one command; the exit code says whether on-call has something to act on
/// (`stuck` finding workflows exits 3, so scripts and cron can alert on it).
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    if let Command::Graph { write } = &cli.command {
        let t = local_stack::template::Template::load(&cli.stack.template)
            .with_context(|| format!("reading {}", cli.stack.template.display()))?;
        let diagram = graph::mermaid(&t);
        match write {
            None => print!("{diagram}"),
            Some(path) => {
                let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
                let updated = graph::replace_block(&text, &diagram)
                    .with_context(|| format!("{} has no ops graph markers", path.display()))?;
                std::fs::write(path, updated)?;
                eprintln!("ops: wrote the topology to {}", path.display());
            }
        }
        return Ok(ExitCode::SUCCESS);
    }

    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    // Without a region every call would fail with "dispatch failure: missing signing region".
    let region = aws.region().map(|r| r.to_string()).context(
        "no AWS region: set AWS_REGION (or a profile's region with AWS_PROFILE); the local stack's is eu-west-2",
    )?;
    let map = stack::StackMap::load(&cli.stack.template, &cli.stack.stack, &region)?;
    let sqs = aws_sdk_sqs::Client::new(&aws);

    match cli.command {
        Command::Graph { .. } => unreachable!("handled above"),
        Command::Dlq(DlqCommand::List) => print::dlq_list(&dlq::list(&sqs, &map).await?),
        Command::Dlq(DlqCommand::Show { queue, limit }) => {
            let q = map.find_dlq(&queue)?;
            print::letters(q, &dlq::show(&sqs, q, limit).await?);
        }
        Command::Dlq(DlqCommand::Redrive { queue, reason, rate, dry_run, hold_secs, wait_secs }) => {
            let q = map.find_dlq(&queue)?;
            let options =
                dlq::RedriveOptions { reason, rate, dry_run, hold_secs: Some(hold_secs), wait_secs: Some(wait_secs) };
            let bar = print::progress(&format!("redriving {}", q.name));
            let report = dlq::redrive(&sqs, &map, q, &options, |r| {
                bar.set_message(format!("moved {} · skipped {} · failed {}", r.moved, r.skipped, r.failed));
                bar.tick();
            })
            .await?;
            bar.finish_and_clear();
            print::redrive(&report, dry_run);
            if report.failed > 0 || report.unseen(dry_run) > 0 {
                return Ok(ExitCode::from(2));
            }
        }
        Command::Workflow(WorkflowArgs {
            command: Some(WorkflowCommand::Redrive { id, dry_run, force, by }), ..
        }) => {
            let ddb = aws_sdk_dynamodb::Client::new(&aws);
            let stores = redrive::Stores::new(&ddb, &map);
            let items = stores.find(&id).await?;
            if items.is_empty() {
                anyhow::bail!("no report, approval request, contact or audited workflow has the id {id}");
            }
            let limits = stuck::limits(&map, None)?;
            let by = redrive::operator(by);
            let ctx = redrive::context(&limits, force, &by, chrono::Utc::now());
            let mut code = ExitCode::SUCCESS;
            for item in &items {
                let outcome = redrive::redrive(&sqs, &map, &stores, item, &ctx, dry_run).await?;
                print::redriven(&outcome, &map, dry_run);
                if matches!(outcome.plan, ::stuck::redrive::Plan::Cannot(_)) {
                    code = ExitCode::from(1);
                }
            }
            return Ok(code);
        }
        Command::Workflow(WorkflowArgs { id: None, .. }) => {
            anyhow::bail!("ops workflow <id>, or ops workflow redrive <id>");
        }
        Command::Workflow(WorkflowArgs { id: Some(id), .. }) => {
            let ddb = aws_sdk_dynamodb::Client::new(&aws);
            let found = find_workflow(&ddb, &aws_sdk_kms::Client::new(&aws), &map, &id).await?;
            if found.is_empty() {
                anyhow::bail!("no report, approval request, contact or audited workflow has the id {id}");
            }
            for t in &found {
                print::timeline(t);
            }
        }
        Command::Stuck { older_than, kind, redrive: and_redrive, rate, by } => {
            let ddb = aws_sdk_dynamodb::Client::new(&aws);
            let limits = stuck::limits(&map, older_than)?;
            let sources = stuck::sources(&ddb, &map);
            let found = stuck::check(&sources, &kind, &limits).await;
            print::stuck(&found, chrono::Utc::now());
            if and_redrive {
                let by = redrive::operator(by);
                let stores = redrive::Stores::new(&ddb, &map);
                let listed: Vec<&::stuck::Finding> = found.all().collect();
                let bar = print::bar(listed.len() as u64, "redriving");
                let mut pace = redrive::Pace::new(rate);
                let mut outcomes = Vec::new();
                let mut failed = 0;
                for f in listed {
                    pace.wait().await;
                    let ctx = redrive::context(&limits, false, &by, chrono::Utc::now());
                    let result = match stores.load(f.kind(), &f.id).await {
                        Ok(Some(item)) => redrive::redrive(&sqs, &map, &stores, &item, &ctx, false).await.map(Some),
                        Ok(None) => Ok(None),
                        Err(e) => Err(e),
                    };
                    match result {
                        Ok(Some(o)) => outcomes.push(o),
                        Ok(None) => {}
                        Err(e) => {
                            failed += 1;
                            bar.println(format!("ops: {} {}: {}", f.kind(), f.id, kit::error::chain(e.as_ref())));
                        }
                    }
                    bar.inc(1);
                }
                bar.finish_and_clear();
                print::redrives(&outcomes, failed);
                if failed > 0 {
                    return Ok(ExitCode::from(2));
                }
                return Ok(ExitCode::SUCCESS);
            }
            if !found.failed.is_empty() {
                return Ok(ExitCode::from(1));
            }
            if found.all().next().is_some() {
                return Ok(ExitCode::from(3));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Every system's workflow with this id (ids are unique within a system, so
/// usually one). A system whose table is not in the template is skipped.
pub async fn find_workflow(
    ddb: &aws_sdk_dynamodb::Client,
    kms: &aws_sdk_kms::Client,
    map: &stack::StackMap,
    id: &str,
) -> anyhow::Result<Vec<workflow::Timeline>> {
    let mut out = Vec::new();
    if let (Ok(report_id), Ok(reports_table), Ok(activity)) =
        (uuid::Uuid::parse_str(id), map.table("ReportsTable"), map.table("ActivityTable"))
    {
        let store = reports::dynamo::DynamoReportStore::new(ddb.clone(), reports_table, activity);
        if let Some(r) = reports::ports::ReportReader::get(&store, &report_id).await? {
            out.push(workflow::report_timeline(&r));
        }
    }
    if let Ok(table) = map.table("ApprovalsTable") {
        let store = approvals::dynamo::DynamoApprovalStore::new(ddb.clone(), table);
        if let Some(r) = approvals::ports::RequestStore::get(&store, id).await? {
            out.push(systems::approval_timeline(&r));
        }
    }
    if let (Ok(table), Ok(contact_id)) = (map.table("ContactsTable"), contacts::ContactId::parse(id)) {
        let store = contacts::dynamo::DynamoContactStore::new(ddb.clone(), table);
        if let Some(c) = contacts::ports::ContactReader::get(&store, &contact_id).await? {
            out.push(systems::contact_timeline(&c));
        }
    }
    if let (Ok(workflows), Ok(audit_table)) = (map.table("WorkflowsTable"), map.table("AuditTable")) {
        let store = audit::dynamo::DynamoWorkflows::new(ddb.clone(), workflows);
        if let Some(w) = audit::ports::WorkflowStore::get(&store, id).await? {
            let log = audit::dynamo::DynamoAudit::new(ddb.clone(), audit_table);
            let records = audit::ports::AuditReader::chain(&log, id).await?;
            let key = audit::kms::KmsTrustedKey::new(kms.clone(), map.key_alias("AuditSigningKey")?);
            let check = audit::usecases::check_trail(&log, &store, &key, id).await?;
            out.push(systems::audit_timeline(&w, &records, &check));
        }
    }
    Ok(out)
}
