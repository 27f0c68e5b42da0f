//! [`Sources`] on the stack's tables: each kind's sparse index, then the items.

use approvals::dynamo::DynamoApprovalStore;
use approvals::ports::RequestStore;
use approvals::{ApprovalRequest, AwaitedStep};
use async_trait::async_trait;
use audit::dynamo::DynamoWorkflows;
use audit::ports::WorkflowStore;
use audit::Workflow;
use chrono::{DateTime, Utc};
use contacts::dynamo::DynamoContactStore;
use contacts::ports::ContactReader;
use contacts::{Contact, ContactState};
use reports::dynamo::DynamoReportStore;
use reports::Report;

use crate::kind::Kind;
use crate::sources::{SourceError, Sources};

/// The stores of the kinds this stack has (a kind without its table is skipped).
#[derive(Clone, Default)]
pub struct DynamoSources {
    pub reports: Option<DynamoReportStore>,
    pub approvals: Option<DynamoApprovalStore>,
    pub contacts: Option<DynamoContactStore>,
    pub workflows: Option<DynamoWorkflows>,
}

fn absent(kind: Kind) -> SourceError {
    #[derive(Debug, thiserror::Error)]
    #[error("this stack has no table for them")]
    struct NoTable;
    SourceError::new(kind, NoTable)
}

#[async_trait]
impl Sources for DynamoSources {
    fn has(&self, kind: Kind) -> bool {
        match kind {
            Kind::Report => self.reports.is_some(),
            Kind::Approval => self.approvals.is_some(),
            Kind::Contact => self.contacts.is_some(),
            Kind::Workflow => self.workflows.is_some(),
        }
    }

    async fn open_reports(&self, cutoff: DateTime<Utc>, limit: usize) -> Result<Vec<Report>, SourceError> {
        let store = self.reports.as_ref().ok_or_else(|| absent(Kind::Report))?;
        store.open_before(cutoff, limit).await.map_err(|e| SourceError::new(Kind::Report, e))
    }

    async fn approvals_awaiting(
        &self,
        step: AwaitedStep,
        cutoff: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<ApprovalRequest>, SourceError> {
        let store = self.approvals.as_ref().ok_or_else(|| absent(Kind::Approval))?;
        let err = |e| SourceError::new(Kind::Approval, e);
        let mut out = Vec::new();
        for id in store.awaiting_before(step, cutoff, limit).await.map_err(err)? {
            // Gone since the index was read (TTL): nothing is stuck.
            if let Some(r) = store.get(&id).await.map_err(err)? {
                out.push(r);
            }
        }
        Ok(out)
    }

    async fn contacts_pending(
        &self,
        state: ContactState,
        cutoff: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Contact>, SourceError> {
        let store = self.contacts.as_ref().ok_or_else(|| absent(Kind::Contact))?;
        let err = |e| SourceError::new(Kind::Contact, e);
        let mut out = Vec::new();
        for id in store.pending_since(state, cutoff, limit).await.map_err(err)? {
            if let Some(c) = ContactReader::get(store, &id).await.map_err(err)? {
                out.push(c);
            }
        }
        Ok(out)
    }

    async fn unannounced_workflows(&self, cutoff: DateTime<Utc>, limit: usize) -> Result<Vec<Workflow>, SourceError> {
        let store = self.workflows.as_ref().ok_or_else(|| absent(Kind::Workflow))?;
        let err = |e| SourceError::new(Kind::Workflow, e);
        let mut out = Vec::new();
        for id in store.unannounced_before(cutoff, limit).await.map_err(err)? {
            if let Some(w) = store.get(&id).await.map_err(err)? {
                out.push(w);
            }
        }
        Ok(out)
    }
}
