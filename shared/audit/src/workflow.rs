//! The workflow state machine, as pure functions: who may do what, in which state.
//!
//! ```text
//!  (create = first save) ─▶ DRAFT ──request──▶ REQUESTED ──approve──▶ APPROVED (final)
//!                           ▲  │save              │
//!                           └──┘                  └──reject──▶ REJECTED ──save──▶ DRAFT
//!                                                              └──request──▶ REQUESTED
//! ```
//!
//! Saving and requesting are the owner's (role `requester`); approving and
//! rejecting belong to the approvers the workflow names (role `approver`), and an
//! approver may never decide their own request. A caller lacking the right is
//! [`Refusal::Forbidden`] (403); a right action in the wrong state is
//! [`Refusal::InvalidTransition`] (409).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::UserId;
use crate::messages::WorkflowAction;
use crate::roles::{Role, Roles};
use kit::Envelope;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum WorkflowState {
    Draft,
    Requested,
    Approved,
    Rejected,
}

impl WorkflowState {
    pub fn as_str(self) -> &'static str {
        match self {
            WorkflowState::Draft => "DRAFT",
            WorkflowState::Requested => "REQUESTED",
            WorkflowState::Approved => "APPROVED",
            WorkflowState::Rejected => "REJECTED",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActionKind {
    Save,
    Request,
    Approve,
    Reject,
}

impl ActionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::Save => "save",
            ActionKind::Request => "request",
            ActionKind::Approve => "approve",
            ActionKind::Reject => "reject",
        }
    }

    /// Only the owner's actions carry workflow data; a decision does not change it.
    pub fn carries_data(self) -> bool {
        matches!(self, ActionKind::Save | ActionKind::Request)
    }
}

/// The seed's "step id": the stage of the workflow an action was taken in.
pub fn step_id(from: Option<WorkflowState>) -> &'static str {
    match from {
        None | Some(WorkflowState::Draft) | Some(WorkflowState::Rejected) => "draft",
        Some(WorkflowState::Requested) => "approval",
        Some(WorkflowState::Approved) => "approved",
    }
}

/// Who is acting: the token's subject and roles, as the authorizer verified them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub user: UserId,
    pub roles: Roles,
}

/// The workflow item: its state, and the action sequence the audit chain follows.
#[derive(Debug, Clone, PartialEq)]
pub struct Workflow {
    pub workflow_id: String,
    pub scheme: String,
    pub title: Option<String>,
    /// The requester who created it.
    pub owner: String,
    /// Who may approve or reject it.
    pub approvers: Vec<String>,
    pub state: WorkflowState,
    /// The workflow's data as canonical JSON (see [`crate::canonical`]).
    pub data: Option<String>,
    /// Number of accepted actions; action n is audit record n.
    pub seq: u64,
    /// The last seq whose event was published. Action n+1 is only accepted once
    /// action n is announced, so `last_event` is the only event that can be pending.
    pub announced_seq: u64,
    /// The event of action `seq`, exactly as (re-)published.
    pub last_event: Option<Envelope<WorkflowAction>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Operators' redrives of its announcement (`ops workflow redrive`), oldest first.
    pub redrives: Vec<kit::redrive::Redrive>,
}

impl Workflow {
    pub fn is_announced(&self) -> bool {
        self.announced_seq >= self.seq
    }

    /// Owner, named approvers and auditors may see it; to anyone else it does not exist.
    pub fn visible_to(&self, caller: &Caller) -> bool {
        let user = caller.user.as_str();
        self.owner == user || self.approvers.iter().any(|a| a == user) || caller.roles.has(Role::Auditor)
    }
}

/// Why an action is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The caller may not take this action on this workflow (403).
    #[error("{0}")]
    Forbidden(String),
    /// The action is not possible in the workflow's state (409).
    #[error("{0}")]
    InvalidTransition(String),
}

/// An allowed action: where it takes the workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    pub action: ActionKind,
    pub from: WorkflowState,
    pub to: WorkflowState,
}

fn forbidden(why: &str) -> Refusal {
    Refusal::Forbidden(why.to_owned())
}

fn invalid(why: String) -> Refusal {
    Refusal::InvalidTransition(why)
}

/// Creating a workflow is its first save: only requesters may.
pub fn may_create(caller: &Caller) -> Result<(), Refusal> {
    if caller.roles.has(Role::Requester) {
        Ok(())
    } else {
        Err(forbidden("creating a workflow needs the requester role"))
    }
}

/// Decides an action: who first (403), then the state (409).
pub fn decide(wf: &Workflow, caller: &Caller, action: ActionKind) -> Result<Transition, Refusal> {
    use WorkflowState::*;
    let user = caller.user.as_str();
    match action {
        ActionKind::Save | ActionKind::Request => {
            if !caller.roles.has(Role::Requester) {
                return Err(forbidden("saving or requesting a workflow needs the requester role"));
            }
            if wf.owner != user {
                return Err(forbidden("only the workflow's requester may save or request it"));
            }
        }
        ActionKind::Approve | ActionKind::Reject => {
            if !caller.roles.has(Role::Approver) {
                return Err(forbidden("approving or rejecting needs the approver role"));
            }
            if wf.owner == user {
                return Err(forbidden("an approver may not approve or reject their own request"));
            }
            if !wf.approvers.iter().any(|a| a == user) {
                return Err(forbidden("you are not an approver of this workflow"));
            }
        }
    }
    let to = match (action, wf.state) {
        (_, Approved) => return Err(invalid("the workflow is approved: approved workflows are final".into())),
        (ActionKind::Save, Draft | Rejected) => Draft,
        (ActionKind::Request, Draft | Rejected) => Requested,
        (ActionKind::Approve, Requested) => Approved,
        (ActionKind::Reject, Requested) => Rejected,
        (ActionKind::Save | ActionKind::Request, Requested) => {
            return Err(invalid(format!("the workflow is awaiting approval: it cannot be {}ed", verb(action))))
        }
        (ActionKind::Approve | ActionKind::Reject, Draft | Rejected) => {
            return Err(invalid(format!(
                "the workflow is {}, not requested: there is nothing to {}",
                wf.state.as_str(),
                action.as_str()
            )))
        }
    };
    Ok(Transition { action, from: wf.state, to })
}

fn verb(action: ActionKind) -> &'static str {
    match action {
        ActionKind::Save => "sav",
        ActionKind::Request => "request",
        ActionKind::Approve => "approv",
        ActionKind::Reject => "reject",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ActionKind::*;
    use WorkflowState::*;

    fn caller(user: &str, roles: &[Role]) -> Caller {
        Caller { user: UserId::parse(user).unwrap(), roles: Roles::of(roles) }
    }

    fn wf(state: WorkflowState) -> Workflow {
        let t: DateTime<Utc> = "2024-06-01T12:00:00Z".parse().unwrap();
        Workflow {
            workflow_id: "wf-1".into(),
            scheme: "grants".into(),
            title: None,
            owner: "alice".into(),
            approvers: vec!["bob".into(), "carol".into()],
            state,
            data: None,
            seq: 1,
            announced_seq: 1,
            redrives: Vec::new(),
            last_event: None,
            created_at: t,
            updated_at: t,
        }
    }

    #[test]
    fn the_happy_path_and_the_rework_loop() {
        let alice = caller("alice", &[Role::Requester]);
        let bob = caller("bob", &[Role::Approver]);
        assert_eq!(decide(&wf(Draft), &alice, Save).unwrap().to, Draft);
        assert_eq!(decide(&wf(Draft), &alice, Request).unwrap().to, Requested);
        assert_eq!(decide(&wf(Requested), &bob, Approve).unwrap().to, Approved);
        assert_eq!(decide(&wf(Requested), &bob, Reject).unwrap().to, Rejected);
        assert_eq!(decide(&wf(Rejected), &alice, Save).unwrap().to, Draft);
        assert_eq!(decide(&wf(Rejected), &alice, Request).unwrap().to, Requested);
    }

    #[test]
    fn every_action_in_the_wrong_state_is_an_invalid_transition() {
        let alice = caller("alice", &[Role::Requester]);
        let bob = caller("bob", &[Role::Approver]);
        let cases = [
            (Requested, &alice, Save),
            (Requested, &alice, Request),
            (Draft, &bob, Approve),
            (Rejected, &bob, Reject),
            (Approved, &alice, Save),
            (Approved, &alice, Request),
            (Approved, &bob, Approve),
            (Approved, &bob, Reject),
        ];
        for (state, who, action) in cases {
            let err = decide(&wf(state), who, action).unwrap_err();
            assert!(matches!(err, Refusal::InvalidTransition(_)), "{state:?} {action:?}: {err:?}");
        }
    }

    #[test]
    fn roles_ownership_and_self_approval_are_forbidden_whatever_the_state() {
        let alice_both = caller("alice", &[Role::Requester, Role::Approver]);
        let mallory = caller("mallory", &[Role::Requester, Role::Approver]);
        let bob_no_role = caller("bob", &[Role::Requester]);
        let auditor = caller("dave", &[Role::Auditor]);
        for state in [Draft, Requested, Approved, Rejected] {
            let w = wf(state);
            let self_approval = decide(&w, &alice_both, Approve).unwrap_err();
            assert!(self_approval.to_string().contains("their own request"), "{self_approval}");
            assert!(matches!(decide(&w, &alice_both, Reject), Err(Refusal::Forbidden(_))));
            assert!(matches!(decide(&w, &mallory, Save), Err(Refusal::Forbidden(_))), "not the owner");
            assert!(matches!(decide(&w, &mallory, Approve), Err(Refusal::Forbidden(_))), "not a named approver");
            assert!(matches!(decide(&w, &bob_no_role, Approve), Err(Refusal::Forbidden(_))), "no approver role");
            assert!(matches!(decide(&w, &auditor, Save), Err(Refusal::Forbidden(_))));
        }
        assert!(may_create(&auditor).is_err());
        assert!(may_create(&alice_both).is_ok());
    }

    #[test]
    fn owners_approvers_and_auditors_see_a_workflow_nobody_else_does() {
        let w = wf(Draft);
        assert!(w.visible_to(&caller("alice", &[])));
        assert!(w.visible_to(&caller("carol", &[])));
        assert!(w.visible_to(&caller("dave", &[Role::Auditor])));
        assert!(!w.visible_to(&caller("mallory", &[Role::Requester, Role::Approver])));
    }

    #[test]
    fn step_ids_name_the_stage_acted_in() {
        assert_eq!(step_id(None), "draft");
        assert_eq!(step_id(Some(Rejected)), "draft");
        assert_eq!(step_id(Some(Requested)), "approval");
    }
}
