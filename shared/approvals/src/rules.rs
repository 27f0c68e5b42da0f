//! The rules, as pure functions over a request read from the store. The store's
//! conditional writes enforce the same rules atomically; these say what a caller
//! is told, and diagnose a write whose condition failed.

use chrono::{DateTime, Utc};

use crate::state::{ApprovalRequest, Decision, Status};
use crate::token::TokenHash;

/// What a link (request id + token) is worth right now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkCheck {
    /// The token belongs to this approver and may decide.
    Valid { approver: usize },
    /// No approver of this request holds this token.
    Unknown,
    /// The request is past its expiry (DynamoDB TTL may not have removed it yet).
    Expired,
    /// This token was revoked while the request was still pending.
    Revoked,
    /// Somebody decided already. `by` is set only if the request allows it.
    Decided { decision: Decision, decided_at: DateTime<Utc>, by: Option<String> },
}

/// Finds the approver holding `hash`. Every stored hash is compared, in constant
/// time, whatever matches first: the time taken does not depend on which (if any).
pub fn find_approver(req: &ApprovalRequest, hash: &TokenHash) -> Option<usize> {
    let mut found = None;
    for (i, approver) in req.approvers.iter().enumerate() {
        let matches = approver.token_hash.as_deref().and_then(TokenHash::from_hex).is_some_and(|h| h.ct_eq(hash));
        if matches && found.is_none() {
            found = Some(i);
        }
    }
    found
}

pub fn check_link(req: &ApprovalRequest, hash: &TokenHash, now: DateTime<Utc>) -> LinkCheck {
    let Some(approver) = find_approver(req, hash) else {
        return LinkCheck::Unknown;
    };
    if let Some(d) = &req.decision {
        return LinkCheck::Decided {
            decision: d.decision,
            decided_at: d.decided_at,
            by: req.decider_if_revealed().map(str::to_owned),
        };
    }
    if req.status != Status::Pending {
        // A status past PENDING always carries its decision; be safe anyway.
        return LinkCheck::Revoked;
    }
    if req.is_expired(now) {
        return LinkCheck::Expired;
    }
    if req.approvers[approver].revoked_at.is_some() {
        return LinkCheck::Revoked;
    }
    LinkCheck::Valid { approver }
}

/// What recording EXECUTING for `attempt` would find.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BeginCheck {
    /// APPROVED and not begun: this attempt may run the action.
    Begin,
    /// This very attempt recorded EXECUTING already (its answer was lost).
    AlreadyBegun,
    /// Another attempt began and never finished: it crashed (or is still running
    /// somewhere it should not be). The action may or may not have happened.
    Interrupted { attempt_id: String, started_at: DateTime<Utc> },
    /// EXECUTED or FAILED: nothing left to do.
    Finished(Status),
    /// PENDING, REJECTED or UNDELIVERABLE: there is nothing to execute.
    NotApproved(Status),
}

pub fn check_begin(req: &ApprovalRequest, attempt_id: &str) -> BeginCheck {
    match req.status {
        Status::Approved => BeginCheck::Begin,
        Status::Executing => match &req.execution {
            Some(e) if e.attempt_id == attempt_id => BeginCheck::AlreadyBegun,
            Some(e) => BeginCheck::Interrupted { attempt_id: e.attempt_id.clone(), started_at: e.started_at },
            None => BeginCheck::Interrupted { attempt_id: String::new(), started_at: req.created_at },
        },
        s @ (Status::Executed | Status::Failed) => BeginCheck::Finished(s),
        s @ (Status::Pending | Status::Rejected | Status::Undeliverable) => BeginCheck::NotApproved(s),
    }
}

/// How an execution ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecutionOutcome {
    Executed,
    Failed,
}

impl ExecutionOutcome {
    pub fn status(self) -> Status {
        match self {
            ExecutionOutcome::Executed => Status::Executed,
            ExecutionOutcome::Failed => Status::Failed,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FinishCheck {
    Finish,
    /// The same attempt recorded the same outcome already.
    AlreadyFinished,
    /// Anything else: another attempt's execution, a different outcome, not executing.
    Conflict(Status),
}

pub fn check_finish(req: &ApprovalRequest, attempt_id: &str, outcome: ExecutionOutcome) -> FinishCheck {
    let same_attempt = req.execution.as_ref().is_some_and(|e| e.attempt_id == attempt_id);
    match req.status {
        Status::Executing if same_attempt => FinishCheck::Finish,
        s if s == outcome.status() && same_attempt => FinishCheck::AlreadyFinished,
        s => FinishCheck::Conflict(s),
    }
}

/// The status shown to callers: a PENDING request past its expiry is EXPIRED.
/// UNDELIVERABLE stays what it is: it is final, expired or not.
pub fn shown_status(req: &ApprovalRequest, now: DateTime<Utc>) -> &'static str {
    if req.status == Status::Pending && req.is_expired(now) {
        "EXPIRED"
    } else {
        req.status.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::{NewRequest, Submission};
    use crate::state::{DecisionRecord, Execution};
    use crate::token::Token;
    use chrono::Duration;

    fn now() -> DateTime<Utc> {
        "2024-06-01T12:00:00Z".parse().unwrap()
    }

    /// A request with three approvers whose tokens were emailed; returns the tokens.
    fn request(reveal: bool) -> (ApprovalRequest, Vec<Token>) {
        let sub: Submission = serde_json::from_value(serde_json::json!({
            "request_id": "r1", "issue_id": "I-1", "action": "restart",
            "approvers": ["a@x.org", "b@x.org", "c@x.org"], "expires_in_minutes": 10,
            "reveal_approver": reveal,
        }))
        .unwrap();
        let mut req = ApprovalRequest::new(&NewRequest::parse(sub, now()).unwrap());
        let tokens: Vec<Token> = (0..3).map(|_| Token::generate().unwrap()).collect();
        for (a, t) in req.approvers.iter_mut().zip(&tokens) {
            a.token_hash = Some(t.hash().to_hex());
        }
        (req, tokens)
    }

    fn decide(req: &mut ApprovalRequest, by: usize) {
        req.status = Status::Approved;
        req.decision = Some(DecisionRecord { decision: Decision::Approved, decided_at: now(), decided_by: by });
    }

    #[test]
    fn each_token_finds_its_own_approver_and_a_foreign_token_none() {
        let (req, tokens) = request(false);
        for (i, t) in tokens.iter().enumerate() {
            assert_eq!(check_link(&req, &t.hash(), now()), LinkCheck::Valid { approver: i });
        }
        let other = Token::generate().unwrap();
        assert_eq!(check_link(&req, &other.hash(), now()), LinkCheck::Unknown);
    }

    #[test]
    fn a_token_not_yet_minted_matches_nothing() {
        let (mut req, tokens) = request(false);
        req.approvers[1].token_hash = None;
        assert_eq!(check_link(&req, &tokens[1].hash(), now()), LinkCheck::Unknown);
    }

    #[test]
    fn expiry_is_checked_at_use_whatever_ttl_did() {
        let (req, tokens) = request(false);
        let at_expiry = req.expires_at;
        assert_eq!(check_link(&req, &tokens[0].hash(), at_expiry), LinkCheck::Expired);
        assert!(matches!(
            check_link(&req, &tokens[0].hash(), at_expiry - Duration::seconds(1)),
            LinkCheck::Valid { .. }
        ));
        assert_eq!(shown_status(&req, at_expiry), "EXPIRED");
    }

    #[test]
    fn after_a_decision_every_token_says_how_and_only_says_who_if_allowed() {
        let (mut req, tokens) = request(false);
        decide(&mut req, 1);
        for t in &tokens {
            assert_eq!(
                check_link(&req, &t.hash(), now()),
                LinkCheck::Decided { decision: Decision::Approved, decided_at: now(), by: None }
            );
        }
        let (mut req, tokens) = request(true);
        decide(&mut req, 1);
        assert!(
            matches!(check_link(&req, &tokens[0].hash(), now()), LinkCheck::Decided { by: Some(b), .. } if b == "b@x.org")
        );
    }

    #[test]
    fn a_revoked_token_is_refused_while_pending() {
        let (mut req, tokens) = request(false);
        req.approvers[2].revoked_at = Some(now());
        assert_eq!(check_link(&req, &tokens[2].hash(), now()), LinkCheck::Revoked);
    }

    #[test]
    fn begin_and_finish_follow_the_attempt() {
        let (mut req, _) = request(false);
        assert_eq!(check_begin(&req, "a1"), BeginCheck::NotApproved(Status::Pending));
        decide(&mut req, 0);
        assert_eq!(check_begin(&req, "a1"), BeginCheck::Begin);
        req.status = Status::Executing;
        req.execution = Some(Execution { attempt_id: "a1".into(), started_at: now(), finished_at: None, output: None });
        assert_eq!(check_begin(&req, "a1"), BeginCheck::AlreadyBegun);
        assert!(matches!(check_begin(&req, "a2"), BeginCheck::Interrupted { attempt_id, .. } if attempt_id == "a1"));
        assert_eq!(check_finish(&req, "a1", ExecutionOutcome::Executed), FinishCheck::Finish);
        assert_eq!(check_finish(&req, "a2", ExecutionOutcome::Executed), FinishCheck::Conflict(Status::Executing));
        req.status = Status::Executed;
        assert_eq!(check_finish(&req, "a1", ExecutionOutcome::Executed), FinishCheck::AlreadyFinished);
        assert_eq!(check_finish(&req, "a1", ExecutionOutcome::Failed), FinishCheck::Conflict(Status::Executed));
        assert_eq!(check_begin(&req, "a3"), BeginCheck::Finished(Status::Executed));
    }
}
