//! The chaos suite's short version in `make test`: 50 report workflows (with 5
//! audited workflows, 3 approval requests and 6 calls beside them), one kill, and
//! the outages (Zendesk down 6 h, Notify 2 h, a 429 burst) at the test time scale.

use integration_tests::chaos::{run, ChaosConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_workflows_through_flaky_providers_and_a_killed_runner_lose_nothing_and_double_nothing() {
    let outcome = run(ChaosConfig::short()).await.expect("the chaos run starts");
    println!("{}", outcome.summary());
    assert_eq!(outcome.lost, 0, "{}", outcome.summary());
    assert_eq!(outcome.duplicate_tickets, 0, "{}", outcome.summary());
    assert_eq!(outcome.duplicate_txma_events, 0, "{}", outcome.summary());
    assert_eq!(outcome.tickets, outcome.workflows, "{}", outcome.summary());
    assert_eq!(outcome.emails, outcome.workflows, "{}", outcome.summary());
    assert_eq!(outcome.duplicate_emails, 0, "{}", outcome.summary());
    assert_eq!(outcome.outage_dead_letters, 0, "the outages used up no retry budget: {}", outcome.summary());
    assert!(outcome.retry_after.checked > 0, "429s were timed: {}", outcome.summary());
    assert!(outcome.retry_after.violations.is_empty(), "{:?}", outcome.retry_after.violations);
    assert!(outcome.poison_ok, "poison: {:?}", outcome.poison);
    assert!(outcome.log_leaks.is_empty(), "leaks: {:?}", &outcome.log_leaks[..outcome.log_leaks.len().min(3)]);
    assert_eq!(outcome.audit.completed, outcome.audit.workflows, "{}", outcome.summary());
    assert_eq!(outcome.audit.duplicate_records, 0, "{}", outcome.summary());
    assert_eq!(outcome.approvals.completed, outcome.approvals.requests, "{}", outcome.summary());
    assert_eq!(outcome.approvals.double_decisions, 0, "{}", outcome.summary());
    assert_eq!(outcome.approvals.duplicate_fifo_messages, 0, "{}", outcome.summary());
    assert_eq!(outcome.contacts.completed, outcome.contacts.contacts, "{}", outcome.summary());
    assert_eq!(outcome.contacts.duplicate_alerts + outcome.contacts.false_alerts, 0, "{}", outcome.summary());
    assert!(outcome.ok(), "{}", outcome.summary());
    assert_eq!(outcome.kills, 1);
}
