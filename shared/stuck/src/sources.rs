//! Where candidates come from: each state's sparse index, read with a time cutoff
//! (never a scan), then each item read whole for the rules.

use approvals::{ApprovalRequest, AwaitedStep};
use async_trait::async_trait;
use audit::Workflow;
use chrono::{DateTime, Utc};
use contacts::{Contact, ContactState};
use reports::Report;

use crate::kind::Kind;

#[derive(Debug, thiserror::Error)]
#[error("reading the {kind} workflows: {source}")]
pub struct SourceError {
    pub kind: Kind,
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

impl SourceError {
    pub fn new(kind: Kind, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self { kind, source: Box::new(source) }
    }
}

/// The items each stuck state's index holds from before `cutoff`, at most `limit`.
#[async_trait]
pub trait Sources: Send + Sync {
    /// Whether this stack has the kind at all (its table in the template).
    fn has(&self, kind: Kind) -> bool;
    async fn open_reports(&self, cutoff: DateTime<Utc>, limit: usize) -> Result<Vec<Report>, SourceError>;
    async fn approvals_awaiting(
        &self,
        step: AwaitedStep,
        cutoff: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<ApprovalRequest>, SourceError>;
    /// Contacts pending in `state`, first cached before `cutoff`.
    async fn contacts_pending(
        &self,
        state: ContactState,
        cutoff: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Contact>, SourceError>;
    async fn unannounced_workflows(&self, cutoff: DateTime<Utc>, limit: usize) -> Result<Vec<Workflow>, SourceError>;
}
