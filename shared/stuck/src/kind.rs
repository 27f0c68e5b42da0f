//! The workflow kinds and their stuck states.

use std::fmt;

/// A workflow kind: one system, one item per workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Report,
    Approval,
    Contact,
    /// An audited workflow (seed 004).
    Workflow,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Report, Kind::Approval, Kind::Contact, Kind::Workflow];

    /// The metric dimension's value and `ops`'s name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Report => "report",
            Kind::Approval => "approval",
            Kind::Contact => "contact",
            Kind::Workflow => "workflow",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Each kind's non-final states that the pipeline must move on by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StuckState {
    /// A report not COMPLETED (nor REJECTED): REQUESTED, TICKET_CREATED or FAILED.
    ReportOpen,
    /// PENDING and unexpired, its approval emails not all sent.
    ApprovalEmails,
    /// Decided, the decision not yet on the FIFO queue.
    ApprovalEnqueue,
    /// On the FIFO queue, not yet taken by the on-prem processor (no EXECUTING,
    /// or a rejection not yet acknowledged).
    ApprovalPickup,
    /// EXECUTING, no outcome reported.
    ApprovalExecuting,
    /// INITIALISED or IN_PROGRESS: the call has not ended, as far as we know.
    ContactCall,
    /// COMPLETED - AGENT, its recording not checked (or its alert not out).
    ContactCheck,
    /// An accepted action whose event was never announced (`announced_seq < seq`).
    WorkflowAnnounce,
}

impl StuckState {
    pub const ALL: [StuckState; 8] = [
        StuckState::ReportOpen,
        StuckState::ApprovalEmails,
        StuckState::ApprovalEnqueue,
        StuckState::ApprovalPickup,
        StuckState::ApprovalExecuting,
        StuckState::ContactCall,
        StuckState::ContactCheck,
        StuckState::WorkflowAnnounce,
    ];

    pub fn kind(self) -> Kind {
        match self {
            StuckState::ReportOpen => Kind::Report,
            StuckState::ApprovalEmails
            | StuckState::ApprovalEnqueue
            | StuckState::ApprovalPickup
            | StuckState::ApprovalExecuting => Kind::Approval,
            StuckState::ContactCall | StuckState::ContactCheck => Kind::Contact,
            StuckState::WorkflowAnnounce => Kind::Workflow,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            StuckState::ReportOpen => "report-open",
            StuckState::ApprovalEmails => "approval-emails",
            StuckState::ApprovalEnqueue => "approval-enqueue",
            StuckState::ApprovalPickup => "approval-pickup",
            StuckState::ApprovalExecuting => "approval-executing",
            StuckState::ContactCall => "contact-call",
            StuckState::ContactCheck => "contact-check",
            StuckState::WorkflowAnnounce => "workflow-announce",
        }
    }

    /// What the state is, for people.
    pub fn describe(self) -> &'static str {
        match self {
            StuckState::ReportOpen => "open (not completed)",
            StuckState::ApprovalEmails => "PENDING, approval emails not delivered",
            StuckState::ApprovalEnqueue => "decided, decision not on the FIFO queue",
            StuckState::ApprovalPickup => "decision on the FIFO queue, not picked up by the processor",
            StuckState::ApprovalExecuting => "EXECUTING, no outcome reported",
            StuckState::ContactCall => "call not ended (INITIALISED / IN_PROGRESS)",
            StuckState::ContactCheck => "COMPLETED - AGENT, recording not checked",
            StuckState::WorkflowAnnounce => "action accepted, event not announced",
        }
    }

    /// The states of one kind.
    pub fn of(kind: Kind) -> impl Iterator<Item = StuckState> {
        Self::ALL.into_iter().filter(move |s| s.kind() == kind)
    }
}

impl fmt::Display for StuckState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
